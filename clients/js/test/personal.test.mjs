// personal.test.mjs — the consent flow and the household routes of @klimaspejl/client against a real klimaspejl
// server (KLIMA_DEV_LOGIN=1, its own signing key, clients registered with the CLI) and the seeded test database.
//
// The whole OAuth 2.0 + PKCE flow runs as an app would: createPkcePair + authorizeUrl, then the citizen's part (dev
// login and consent screen, driven over HTTP like a browser: cookies and CSRF tokens), parseRedirect, exchangeCode,
// calls with the consent token, refresh (rotation, and reuse detection surfacing as invalid_grant), revoke (RFC 7009)
// and revokeConsent. The series and export routes use tokens minted by `klimaspejl token`; their figures are checked
// against SQL on core.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { DB_ADMIN_URL, assertCleanExit, psql, request, runCli, sleep, startServer } from '../../../tests/integration/harness.mjs';
import { KlimaspejlClient, KlimaspejlError, createPkcePair, createState, parseRedirect, pkceChallenge } from '../src/index.js';

const REDIRECT = 'http://localhost:9/callback';
const ALL = 'summary:read energy:read waste:read mobility:read export:read';
const sql = (q) => psql(DB_ADMIN_URL, q);

let srv;
let baseUrl;
let keys;
let env;
let firstParty; // public, first party (may be granted consents:manage)
let confidential; // { id, secret }
let household; // the first dev-login household
let month; // the newest whole month with data

// A minimal browser for the citizen's side: a cookie jar over the harness's HTTP/1.1 request.
class Browser {
    constructor(port) {
        this.port = port;
        this.cookies = new Map();
    }
    async go({ path: p, form }) {
        const headers = {};
        if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        let opts = { path: p, headers };
        if (form) {
            headers['content-type'] = 'application/x-www-form-urlencoded';
            opts = { ...opts, method: 'POST', body: new URLSearchParams(form).toString() };
        }
        const r = await request(this.port, opts);
        for (const c of [].concat(r.headers['set-cookie'] || [])) {
            const kv = c.split(';')[0].trim();
            const i = kv.indexOf('=');
            this.cookies.set(kv.slice(0, i), kv.slice(i + 1));
        }
        return r;
    }
}

const unescapeHtml = (s) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const hiddenFields = (html) => Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], unescapeHtml(m[2])]));

// The citizen's part: open the authorization URL, log in as the first demo household, answer the consent screen.
// Returns the redirect URL the browser is sent to.
async function citizenDecides(authorizeUrl, decision = 'approve') {
    const u = new URL(authorizeUrl);
    assert.equal(u.origin, baseUrl);
    const b = new Browser(srv.port);
    let r = await b.go({ path: `${u.pathname}${u.search}` });
    assert.equal(r.status, 200, r.body);
    const hh = /name="household" value="([0-9a-f-]{36})"/.exec(r.body);
    assert.ok(hh, 'the dev login page lists demo households');
    assert.equal(hh[1], household);
    r = await b.go({ path: '/oauth/login', form: { ...hiddenFields(r.body), household: hh[1] } });
    assert.equal(r.status, 303, r.body);
    r = await b.go({ path: r.headers.location });
    assert.equal(r.status, 200, r.body);
    r = await b.go({ path: '/oauth/consent', form: { ...hiddenFields(r.body), days: '30', decision } });
    assert.equal(r.status, 303, r.body);
    return r.headers.location;
}

function mint(scope, client = firstParty) {
    const r = runCli(['token', '--household', household, '--scope', scope, '--client', client], { env });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').pop().trim();
}

// Polls until a call with `client` is refused with 401 (revocation reaches every worker within a second).
async function refused(client) {
    const t0 = Date.now();
    for (;;) {
        try {
            await client.consents();
        } catch (e) {
            if (e instanceof KlimaspejlError && e.status === 401) return e;
            throw e;
        }
        if (Date.now() - t0 > 2000) assert.fail('the token was still accepted 2 s after the revocation');
        await sleep(50);
    }
}

before(async () => {
    keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-jsclient-keys-'));
    env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
    const k = runCli(['keygen'], { env });
    assert.equal(k.status, 0, k.stderr);
    const add = (args) => {
        const r = runCli(['client', 'add', '--redirect-uri', REDIRECT, ...args], { env });
        assert.equal(r.status, 0, r.stderr);
        return { id: /client_id\s+(\S+)/.exec(r.stdout)[1], secret: /client_secret\s+(\S+)/.exec(r.stdout)?.[1] };
    };
    firstParty = add(['--name', 'JS client test (first party)', '--first-party']).id;
    confidential = add(['--name', 'JS client test (server app)', '--confidential']);
    assert.ok(confidential.secret, 'a confidential client gets a secret');
    household = sql('SELECT household_id FROM api.dev_households(1)');
    month = sql(
        "SELECT to_char(date_trunc('month', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '1 month', 'YYYY-MM') FROM core.energy_hourly",
    );
    srv = await startServer({ env: { KLIMA_KEYS_DIR: keys, KLIMA_DEV_LOGIN: '1', KLIMA_LOG_LEVEL: 'info' } });
    baseUrl = `http://127.0.0.1:${srv.port}`;
    // the LISTEN connection that carries revocations to every worker must be up before revocations are tested
    for (const t0 = Date.now(); !srv.output().includes('listening for database notifications'); await sleep(50)) {
        if (Date.now() - t0 > 20_000) assert.fail(`the server did not start listening for revocations:\n${srv.output()}`);
    }
});
after(async () => {
    if (srv) assertCleanExit(assert, await srv.stop());
    if (keys) fs.rmSync(keys, { recursive: true, force: true });
});

test('the OAuth 2.0 + PKCE flow end to end: authorize, consent, code, token, personal calls, refresh, revoke', async () => {
    const app = new KlimaspejlClient({ baseUrl, lang: 'en' });
    const meta = await app.oauthMetadata();
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok((await app.jwks()).keys.length >= 1);

    const pkce = await createPkcePair();
    const state = await createState();
    const url = app.authorizeUrl({
        clientId: firstParty,
        redirectUri: REDIRECT,
        scope: ['summary:read', 'consents:manage'],
        state,
        codeChallenge: pkce.codeChallenge,
    });
    assert.equal(new URL(url).searchParams.get('code_challenge_method'), 'S256');
    const { code, state: back } = parseRedirect(await citizenDecides(url), state);
    assert.equal(back, state);

    // the wrong verifier is refused (RFC 6749 error JSON surfaces as KlimaspejlError.error)
    const other = await createPkcePair();
    await assert.rejects(
        app.exchangeCode({ clientId: firstParty, code, redirectUri: REDIRECT, codeVerifier: other.codeVerifier }),
        (e) => e instanceof KlimaspejlError && e.status === 400 && e.error === 'invalid_grant',
    );
    // the code may be spent by the failed attempt: a fresh authorization gets a fresh one
    const pkce2 = await createPkcePair();
    const state2 = await createState();
    const url2 = app.authorizeUrl({ clientId: firstParty, redirectUri: REDIRECT, scope: 'summary:read consents:manage', state: state2, codeChallenge: pkce2.codeChallenge });
    const code2 = parseRedirect(await citizenDecides(url2), state2).code;
    const t = await app.exchangeCode({ clientId: firstParty, code: code2, redirectUri: REDIRECT, codeVerifier: pkce2.codeVerifier });
    assert.equal(t.token_type, 'Bearer');
    assert.ok(t.expires_in > 0 && t.expires_in <= 3600);
    assert.deepEqual(t.scope.split(' ').sort(), ['consents:manage', 'summary:read']);

    const me = new KlimaspejlClient({ baseUrl, token: t.access_token, lang: 'en' });
    const consents = await me.consents();
    const cid = JSON.parse(Buffer.from(t.access_token.split('.')[1], 'base64url').toString()).cid;
    const mine = consents.find((c) => c.id === cid);
    assert.ok(mine, 'the new consent is listed');
    assert.equal(mine.status, 'active');
    assert.equal(mine.client_name, 'JS client test (first party)');

    const s = await me.summary({ month });
    assert.equal(s.month, month);
    assert.equal(s.lang, 'en');
    assert.ok(Number.isFinite(s.total_co2e_kg));
    assert.equal((await me.summary({ month, lang: 'da' })).lang, 'da');
    // a scope the consent lacks: 403 insufficient-scope
    await assert.rejects(me.energy({ from: `${month}-01`, to: `${month}-02` }), (e) => e instanceof KlimaspejlError && e.status === 403 && e.kind === 'insufficient-scope');

    // refresh rotates the refresh token; the new access token works
    const t2 = await app.refresh({ clientId: firstParty, refreshToken: t.refresh_token });
    assert.notEqual(t2.refresh_token, t.refresh_token);
    me.setToken(() => t2.access_token);
    assert.ok((await me.consents()).some((c) => c.id === cid));
    // RFC 7009 revocation with the newest refresh token: the consent ends, the access token is refused
    await app.revoke({ clientId: firstParty, token: t2.refresh_token, tokenTypeHint: 'refresh_token' });
    const err = await refused(me);
    assert.equal(err.kind, 'invalid-token');
    await assert.rejects(app.refresh({ clientId: firstParty, refreshToken: t2.refresh_token }), (e) => e.error === 'invalid_grant');
});

test('a reused refresh token is refused (invalid_grant) and takes the consent with it; the citizen can deny', async () => {
    const app = new KlimaspejlClient({ baseUrl });
    const pkce = await createPkcePair();
    const url = app.authorizeUrl({ clientId: firstParty, redirectUri: REDIRECT, scope: 'consents:manage', state: 'st', codeChallenge: pkce.codeChallenge });
    const t1 = await app.exchangeCode({ clientId: firstParty, code: parseRedirect(await citizenDecides(url), 'st').code, redirectUri: REDIRECT, codeVerifier: pkce.codeVerifier });
    const t2 = await app.refresh({ clientId: firstParty, refreshToken: t1.refresh_token });
    const me = new KlimaspejlClient({ baseUrl, token: t2.access_token });
    assert.ok(Array.isArray(await me.consents()));
    await assert.rejects(app.refresh({ clientId: firstParty, refreshToken: t1.refresh_token }), (e) => e instanceof KlimaspejlError && e.error === 'invalid_grant');
    await refused(me);

    const pkce2 = await createPkcePair();
    const denied = await citizenDecides(app.authorizeUrl({ clientId: firstParty, redirectUri: REDIRECT, scope: 'summary:read', state: 'st2', codeChallenge: pkce2.codeChallenge }), 'deny');
    assert.throws(() => parseRedirect(denied, 'st2'), (e) => e instanceof KlimaspejlError && e.error === 'access_denied');
});

test('a confidential client authenticates with its secret; a wrong secret is invalid_client (401)', async () => {
    const app = new KlimaspejlClient({ baseUrl });
    const pkce = await createPkcePair();
    assert.equal(await pkceChallenge(pkce.codeVerifier), pkce.codeChallenge);
    const url = app.authorizeUrl({ clientId: confidential.id, redirectUri: REDIRECT, scope: 'summary:read', state: 'c', codeChallenge: pkce.codeChallenge, lang: 'da' });
    const code = parseRedirect(await citizenDecides(url), 'c').code;
    await assert.rejects(
        app.exchangeCode({ clientId: confidential.id, clientSecret: `${confidential.secret}x`, code, redirectUri: REDIRECT, codeVerifier: pkce.codeVerifier }),
        (e) => e instanceof KlimaspejlError && e.status === 401 && e.error === 'invalid_client',
    );
    const pkce2 = await createPkcePair();
    const url2 = app.authorizeUrl({ clientId: confidential.id, redirectUri: REDIRECT, scope: 'summary:read', state: 'c2', codeChallenge: pkce2.codeChallenge });
    const code2 = parseRedirect(await citizenDecides(url2), 'c2').code;
    const t = await app.exchangeCode({ clientId: confidential.id, clientSecret: confidential.secret, code: code2, redirectUri: REDIRECT, codeVerifier: pkce2.codeVerifier });
    const me = new KlimaspejlClient({ baseUrl, token: t.access_token });
    assert.equal((await me.summary({ month })).month, month);
    // revoking the access token ends the consent too
    await app.revoke({ clientId: confidential.id, clientSecret: confidential.secret, token: t.access_token, tokenTypeHint: 'access_token' });
    const t0 = Date.now();
    for (;;) {
        try {
            await me.summary({ month });
        } catch (e) {
            assert.equal(e.status, 401);
            break;
        }
        if (Date.now() - t0 > 2000) assert.fail('still accepted 2 s after revoking the access token');
        await sleep(50);
    }
});

test('energy, waste and mobility series equal SQL on core; CSV; parameter errors name the parameter', async () => {
    const me = new KlimaspejlClient({ baseUrl, token: mint(ALL) });
    const from = `${month}-01`;
    const to = `${month}-08`;
    const energy = await me.energy({ from, to, resolution: 'day' });
    assert.equal(energy.kind, 'energy');
    assert.equal(energy.count, 7);
    const wh = energy.rows.reduce((a, r) => a + r.electricity_wh, 0);
    const whSql = Number(
        sql(
            `SELECT sum(electricity_wh) FROM core.energy_hourly WHERE household_id = '${household}' ` +
                `AND hour_utc >= '${from}'::timestamp AT TIME ZONE 'Europe/Copenhagen' AND hour_utc < '${to}'::timestamp AT TIME ZONE 'Europe/Copenhagen'`,
        ),
    );
    assert.ok(Math.abs(wh - whSql) < 1e-6 * Math.max(1, whSql), `${wh} Wh vs ${whSql} Wh`);
    assert.equal(energy.rows.reduce((a, r) => a + r.hours, 0), Number(sql(
        `SELECT count(*) FROM core.energy_hourly WHERE household_id = '${household}' ` +
            `AND hour_utc >= '${from}'::timestamp AT TIME ZONE 'Europe/Copenhagen' AND hour_utc < '${to}'::timestamp AT TIME ZONE 'Europe/Copenhagen'`,
    )));
    const waste = await me.waste({ from, to: `${month}-28` });
    assert.equal(waste.kind, 'waste');
    const mobility = await me.mobility({ from, to, resolution: 'month', tz: 'UTC' });
    assert.equal(mobility.kind, 'mobility');
    assert.equal(mobility.tz, 'UTC');
    const csv = await me.energy({ from, to, resolution: 'day', format: 'csv' });
    assert.equal(csv.trim().split(/\r?\n/).length, 8, 'header + 7 days');

    for (const [call, parameter] of [
        [() => me.summary({ month: '2025-13' }), 'month'],
        [() => me.energy({ from: '2025-02-01', to: '2025-01-01' }), 'to'],
        [() => me.energy({ from, to, resolution: 'week' }), 'resolution'],
        [() => me.waste({ from, to, tz: 'Mars/Olympus' }), 'tz'],
    ]) {
        await assert.rejects(call(), (e) => {
            assert.ok(e instanceof KlimaspejlError);
            assert.equal(e.status, 400);
            assert.equal(e.kind, 'invalid-parameter');
            assert.equal(e.parameter, parameter);
            return true;
        });
    }
    await assert.rejects(new KlimaspejlClient({ baseUrl }).summary({ month }), (e) => e.status === 401 && e.kind === 'invalid-token');
    await assert.rejects(me.summary({ month: '1999-01' }), (e) => e.status === 404);
});

test('exportRecords streams every row of the household; revokeConsent ends a consent at once', async () => {
    const me = new KlimaspejlClient({ baseUrl, token: mint('export:read') });
    const counts = {};
    for await (const line of me.exportRecords()) counts[line.kind] = (counts[line.kind] || 0) + 1;
    const [energy, waste, mobility] = sql(
        `SELECT (SELECT count(*) FROM core.energy_hourly WHERE household_id = '${household}'),
                (SELECT count(*) FROM core.waste_weighings WHERE household_id = '${household}'),
                (SELECT count(*) FROM core.mobility_daily WHERE household_id = '${household}')`,
    ).split('|').map(Number);
    assert.deepEqual(counts, { household: 1, energy, waste, mobility });

    // a first-party app lists the consents and revokes one (DELETE /v1/me/consents/{id})
    const victimToken = mint('summary:read');
    const victim = new KlimaspejlClient({ baseUrl, token: victimToken });
    assert.equal((await victim.summary({ month })).month, month);
    const manager = new KlimaspejlClient({ baseUrl, token: mint('consents:manage') });
    const vid = JSON.parse(Buffer.from(victimToken.split('.')[1], 'base64url').toString()).cid;
    assert.ok((await manager.consents()).some((c) => c.id === vid && c.status === 'active'));
    await manager.revokeConsent(vid);
    assert.equal((await manager.consents()).find((c) => c.id === vid).status, 'revoked');
    const t0 = Date.now();
    for (;;) {
        try {
            await victim.summary({ month });
        } catch (e) {
            assert.equal(e.status, 401);
            break;
        }
        if (Date.now() - t0 > 2000) assert.fail('still accepted 2 s after DELETE /v1/me/consents/{id}');
        await sleep(50);
    }
    await assert.rejects(manager.revokeConsent('00000000-0000-4000-8000-000000000000'), (e) => e.status === 404);
    await assert.rejects(manager.revokeConsent('not-a-uuid'), (e) => e.status === 400 && e.parameter === 'id');
});
