// consent.test.mjs — issue 5 end to end against a real server (2 worker threads) and the seeded test database: the
// OAuth 2.0 authorization code flow with PKCE driven like a browser (dev login, cookies, CSRF tokens, consent screen),
// token exchange, refresh rotation and reuse detection, revocation (RFC 7009 and DELETE /v1/me/consents/{id}) seen by
// every worker within 1 s, and bearer tokens minted by an independent implementation (npm `jose`) with the service's
// key — accepted when right, refused with the right RFC 6750 error when not.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as jose from 'jose';

import { DB_ADMIN_URL, assertCleanExit, freePort, psql, request, runCli, sleep, startServer } from './harness.mjs';
import { SpecChecker, assertMatchesSpec, loadSpec } from './openapi-check.mjs';

// Every token-endpoint and personal-route answer is checked against api-spec/openapi.yaml.
const checker = new SpecChecker(loadSpec());

const ISSUER = 'http://klimaspejl.test';
const REDIRECT = 'http://localhost:9/cb';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const pkce = () => {
    const verifier = b64url(crypto.randomBytes(32));
    return { verifier, challenge: b64url(crypto.createHash('sha256').update(verifier).digest()) };
};

// A minimal cookie jar for one browser.
class Browser {
    constructor(port) {
        this.port = port;
        this.cookies = new Map();
    }
    async go(opts) {
        const headers = { ...(opts.headers || {}) };
        if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        if (opts.form) {
            headers['content-type'] = 'application/x-www-form-urlencoded';
            opts = { ...opts, method: 'POST', body: new URLSearchParams(opts.form).toString() };
        }
        const r = await request(this.port, { ...opts, headers });
        for (const c of [].concat(r.headers['set-cookie'] || [])) {
            const [kv, ...attrs] = c.split(';').map((s) => s.trim());
            const i = kv.indexOf('=');
            const name = kv.slice(0, i);
            if (attrs.includes('Max-Age=0')) this.cookies.delete(name);
            else this.cookies.set(name, kv.slice(i + 1));
            assert.ok(attrs.includes('HttpOnly'), `cookie ${name} is HttpOnly`);
            assert.ok(attrs.includes('SameSite=Lax'), `cookie ${name} is SameSite=Lax`);
            // what a browser requires of a __Host- cookie: Secure, Path=/, no Domain
            assert.ok(name.startsWith('__Host-'), `cookie ${name} has the __Host- prefix`);
            assert.ok(attrs.includes('Secure') && attrs.includes('Path=/') && !attrs.some((a) => /^Domain=/i.test(a)), c);
        }
        return r;
    }
}

const hidden = (html) => {
    const out = {};
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
        out[m[1]] = m[2].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'");
    }
    return out;
};

function authorizePath(clientId, scope, challenge, extra = {}) {
    const q = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        state: 'st-123',
        scope,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...extra,
    });
    return `/oauth/authorize?${q}`;
}

// Drives authorize -> dev login -> consent screen -> approve; returns { code, browser, consentHtml }.
async function approve(port, clientId, scope, challenge, { days = '365', lang = 'en' } = {}) {
    const b = new Browser(port);
    let r = await b.go({ path: authorizePath(clientId, scope, challenge, { lang }) });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /name="household"/, 'the dev login page lists demo households');
    const household = /name="household" value="([0-9a-f-]{36})"/.exec(r.body)[1];
    const login = hidden(r.body);
    assert.equal(login.csrf.length, 43);
    r = await b.go({ path: '/oauth/login', form: { csrf: login.csrf, q: login.q, household } });
    assert.equal(r.status, 303, r.body);
    assert.ok(b.cookies.has('__Host-klima_session'));
    r = await b.go({ path: r.headers.location });
    assert.equal(r.status, 200, r.body);
    const consentHtml = r.body;
    const form = hidden(r.body);
    r = await b.go({ path: '/oauth/consent', form: { ...form, days, decision: 'approve' } });
    assert.equal(r.status, 303, r.body);
    const loc = new URL(r.headers.location);
    assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
    assert.equal(loc.searchParams.get('state'), 'st-123');
    return { code: loc.searchParams.get('code'), browser: b, consentHtml, household };
}

async function tokenRequest(port, form, headers = {}) {
    const r = await request(port, {
        method: 'POST',
        path: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
    });
    assertMatchesSpec(assert, checker, 'POST', '/oauth/token', r);
    return { status: r.status, headers: r.headers, json: JSON.parse(r.body) };
}

async function bearer(port, token, p = '/v1/me/consents', method = 'GET') {
    const r = await request(port, { path: p, method, headers: { authorization: `Bearer ${token}` } });
    if (r.status !== 431) assertMatchesSpec(assert, checker, method, p, r);
    return r;
}

// Polls every connection until all refuse the token (or 1 s passes); returns the milliseconds it took.
async function refusedEverywhere(port, token, { conns = 6, within = 1000 } = {}) {
    const t0 = Date.now();
    for (;;) {
        const rs = await Promise.all(Array.from({ length: conns }, () => bearer(port, token)));
        if (rs.every((r) => r.status === 401)) {
            for (const r of rs) assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
            return Date.now() - t0;
        }
        if (Date.now() - t0 > within) assert.fail(`token still accepted after ${within} ms: ${rs.map((r) => `${r.status} ${r.body.slice(0, 120)}`).join(" | ")}`);
        await sleep(25);
    }
}

function assertInvalid(r, check) {
    assert.equal(r.status, 401, r.body);
    const wa = String(r.headers['www-authenticate']);
    assert.match(wa, /^Bearer realm="klimaspejl"/);
    if (check) {
        assert.match(wa, /error="invalid_token"/);
        assert.ok(wa.includes(`error_description="${check}"`), `${wa} names ${check}`);
        const p = JSON.parse(r.body);
        assert.equal(p.type, '/docs/problems#invalid-token');
        assert.ok(p.detail.includes(check), p.detail);
    }
}

describe('consent: OAuth 2.0 + PKCE, consent tokens, revocation', () => {
    let srv, port, keysDir, firstParty, thirdParty, confidential, secret, keyPem, kid, household;

    before(async () => {
        keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        const k = runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keysDir } });
        assert.equal(k.status, 0, k.stderr);
        kid = k.stdout.trim();
        keyPem = fs.readFileSync(path.join(keysDir, `${kid}.pem`), 'utf8');
        assert.equal(fs.statSync(path.join(keysDir, `${kid}.pem`)).mode & 0o777, 0o600);
        const add = (args) => {
            const r = runCli(['client', 'add', '--redirect-uri', REDIRECT, ...args], { env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL } });
            assert.equal(r.status, 0, r.stderr);
            return { id: /client_id (\S+)/.exec(r.stdout)[1], secret: /client_secret (\S+)/.exec(r.stdout)?.[1] };
        };
        firstParty = add(['--name', 'Mit Klima (first party)', '--first-party']).id;
        thirdParty = add(['--name', 'Klimaapp <3rd>']).id;
        const c = add(['--name', 'Server app', '--confidential']);
        confidential = c.id;
        secret = c.secret;
        household = psql(DB_ADMIN_URL, 'SELECT household_id FROM api.dev_households(1)');
        srv = await startServer({
            env: { KLIMA_KEYS_DIR: keysDir, KLIMA_DEV_LOGIN: '1', KLIMA_ISSUER: ISSUER, KLIMA_LOG_LEVEL: 'info' },
            threads: '2',
        });
        port = srv.port;
        // every worker's pool and the LISTEN connection (revocations) must be up before the flow starts
        for (let ok = 0, t0 = Date.now(); ok < 8 || !srv.output().includes('listening for database notifications'); ) {
            ok = (await request(port, { path: '/readyz' })).status === 200 ? ok + 1 : 0;
            if (Date.now() - t0 > 20_000) assert.fail(`the server did not become ready:\n${srv.output()}`);
            if (ok === 0 || ok >= 8) await sleep(50);
        }
    });
    after(async () => {
        if (srv && srv.exited() === null) assertCleanExit(assert, await srv.stop());
        fs.rmSync(keysDir, { recursive: true, force: true });
    });

    test('JWKS and RFC 8414 metadata', async () => {
        const r = await request(port, { path: '/.well-known/jwks.json' });
        assert.equal(r.status, 200);
        const jwks = JSON.parse(r.body);
        assert.equal(jwks.keys.length, 1);
        assert.deepEqual(Object.keys(jwks.keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
        assert.equal(jwks.keys[0].kid, kid);
        const m = JSON.parse((await request(port, { path: '/.well-known/oauth-authorization-server' })).body);
        assert.equal(m.issuer, ISSUER);
        assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
        assert.equal(m.token_endpoint, `${ISSUER}/oauth/token`);
    });

    test('the whole flow: authorize, login, consent, code, token, personal call, refresh, reuse, revoke', async () => {
        const { verifier, challenge } = pkce();
        const { code, consentHtml } = await approve(port, firstParty, 'consents:manage summary:read', challenge);
        assert.match(consentHtml, /Mit Klima \(first party\)/);
        let t = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: firstParty });
        assert.equal(t.status, 200, JSON.stringify(t.json));
        assert.equal(t.json.token_type, 'Bearer');
        assert.ok(t.json.expires_in <= 3600);
        assert.equal(t.headers['cache-control'], 'no-store');
        const claims = jose.decodeJwt(t.json.access_token);
        assert.equal(claims.iss, ISSUER);
        assert.equal(claims.aud, firstParty);
        assert.ok(claims.exp - claims.iat <= 3600);
        assert.equal(jose.decodeProtectedHeader(t.json.access_token).kid, kid);
        // an independent implementation verifies our token with our published JWKS
        const jwks = jose.createLocalJWKSet(JSON.parse((await request(port, { path: '/.well-known/jwks.json' })).body));
        await jose.jwtVerify(t.json.access_token, jwks, { issuer: ISSUER, audience: firstParty, algorithms: ['ES256'] });

        let r = await bearer(port, t.json.access_token);
        assert.equal(r.status, 200, r.body);
        const list = JSON.parse(r.body);
        const mine = list.find((c) => c.id === claims.cid);
        assert.equal(mine.status, 'active');
        assert.equal(mine.client_name, 'Mit Klima (first party)');

        // code used twice: refused, and the consent it created is revoked
        const again = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: firstParty });
        assert.equal(again.status, 400);
        assert.equal(again.json.error, 'invalid_grant');
        await refusedEverywhere(port, t.json.access_token);
    });

    test('refresh rotates; a reused refresh token revokes the consent on every worker within 1 s', async () => {
        const { verifier, challenge } = pkce();
        const { code } = await approve(port, firstParty, 'consents:manage', challenge);
        const t1 = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: firstParty });
        assert.equal(t1.status, 200);
        const t2 = await tokenRequest(port, { grant_type: 'refresh_token', refresh_token: t1.json.refresh_token, client_id: firstParty });
        assert.equal(t2.status, 200, JSON.stringify(t2.json));
        assert.notEqual(t2.json.refresh_token, t1.json.refresh_token);
        // warm every worker's cache with the new token
        for (let i = 0; i < 8; ++i) assert.equal((await bearer(port, t2.json.access_token)).status, 200);
        const reuse = await tokenRequest(port, { grant_type: 'refresh_token', refresh_token: t1.json.refresh_token, client_id: firstParty });
        assert.equal(reuse.status, 400);
        assert.equal(reuse.json.error, 'invalid_grant');
        const ms = await refusedEverywhere(port, t2.json.access_token);
        assert.ok(ms <= 1000);
        const r = await bearer(port, t2.json.access_token);
        assertInvalid(r, 'consent revoked');
        const t3 = await tokenRequest(port, { grant_type: 'refresh_token', refresh_token: t2.json.refresh_token, client_id: firstParty });
        assert.equal(t3.json.error, 'invalid_grant', 'the newest refresh token died with the consent');
    });

    test('POST /oauth/revoke (RFC 7009) and DELETE /v1/me/consents/{id}: refused within 1 s on every worker', async () => {
        for (const how of ['revoke-refresh', 'revoke-access', 'delete']) {
            const { verifier, challenge } = pkce();
            const { code } = await approve(port, firstParty, 'consents:manage', challenge);
            const t = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: firstParty });
            for (let i = 0; i < 8; ++i) assert.equal((await bearer(port, t.json.access_token)).status, 200);
            const cid = jose.decodeJwt(t.json.access_token).cid;
            if (how === 'delete') {
                const r = await bearer(port, t.json.access_token, `/v1/me/consents/${cid}`, 'DELETE');
                assert.equal(r.status, 204, r.body);
            } else {
                const token = how === 'revoke-refresh' ? t.json.refresh_token : t.json.access_token;
                const r = await request(port, {
                    method: 'POST',
                    path: '/oauth/revoke',
                    headers: { 'content-type': 'application/x-www-form-urlencoded' },
                    body: new URLSearchParams({ token, client_id: firstParty }).toString(),
                });
                assert.equal(r.status, 200, r.body);
            }
            const ms = await refusedEverywhere(port, t.json.access_token);
            assert.ok(ms <= 1000, `${how}: ${ms} ms`);
        }
        const unknown = await request(port, {
            method: 'POST',
            path: '/oauth/revoke',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token: 'no-such-token', client_id: firstParty }).toString(),
        });
        assert.equal(unknown.status, 200, 'an unknown token is no error (RFC 7009)');
    });

    test('PKCE, redirect_uri, code expiry and client authentication are enforced at the token endpoint', async () => {
        const { verifier, challenge } = pkce();
        let { code } = await approve(port, thirdParty, 'summary:read', challenge);
        let t = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce().verifier, client_id: thirdParty });
        assert.equal(t.json.error, 'invalid_grant');
        assert.match(t.json.error_description, /code_verifier/);
        ({ code } = await approve(port, thirdParty, 'summary:read', challenge));
        t = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:9/other', code_verifier: verifier, client_id: thirdParty });
        assert.equal(t.json.error, 'invalid_grant');
        assert.match(t.json.error_description, /redirect_uri/);
        ({ code } = await approve(port, thirdParty, 'summary:read', challenge));
        psql(DB_ADMIN_URL, "UPDATE core.auth_codes SET created_at = created_at - interval '61 seconds' WHERE used_at IS NULL");
        t = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: thirdParty });
        assert.equal(t.json.error, 'invalid_grant');
        assert.match(t.json.error_description, /expired/);
        t = await tokenRequest(port, { grant_type: 'password', client_id: thirdParty });
        assert.equal(t.json.error, 'unsupported_grant_type');

        // a confidential client must authenticate (HTTP Basic)
        ({ code } = await approve(port, confidential, 'summary:read', challenge));
        t = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: confidential });
        assert.equal(t.status, 401);
        assert.equal(t.json.error, 'invalid_client');
        ({ code } = await approve(port, confidential, 'summary:read', challenge));
        const basic = `Basic ${Buffer.from(`${confidential}:${secret}`).toString('base64')}`;
        t = await tokenRequest(port, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { authorization: basic });
        assert.equal(t.status, 200, JSON.stringify(t.json));
    });

    test('authorization request errors: problem pages before the redirect_uri is trusted, redirects after', async () => {
        const { challenge } = pkce();
        let r = await request(port, { path: authorizePath('no-such-client', 'summary:read', challenge) });
        assert.equal(r.status, 400);
        assert.equal(JSON.parse(r.body).parameter, 'client_id');
        r = await request(port, { path: authorizePath(firstParty, 'summary:read', challenge, { redirect_uri: 'https://evil.example/cb' }) });
        assert.equal(r.status, 400);
        assert.equal(JSON.parse(r.body).parameter, 'redirect_uri');
        const err = async (p) => {
            const res = await request(port, { path: p });
            assert.equal(res.status, 303, res.body);
            const loc = new URL(res.headers.location);
            assert.equal(loc.searchParams.get('state'), 'st-123');
            return loc.searchParams.get('error');
        };
        assert.equal(await err(authorizePath(firstParty, 'summary:read', challenge, { code_challenge_method: 'plain' })), 'invalid_request');
        assert.equal(await err(authorizePath(firstParty, 'summary:read', challenge, { response_type: 'token' })), 'unsupported_response_type');
        assert.equal(await err(authorizePath(firstParty, 'nonsense:read', challenge)), 'invalid_scope');
        assert.equal(await err(authorizePath(thirdParty, 'consents:manage', challenge)), 'invalid_scope');
    });

    test('consent screen in Danish and English; deny redirects with access_denied; forms need the CSRF token', async () => {
        const { challenge } = pkce();
        const scope = 'summary:read energy:read waste:read mobility:read export:read';
        const { browser } = await approve(port, thirdParty, 'summary:read', challenge);
        const da = await browser.go({ path: authorizePath(thirdParty, scope, challenge, { lang: 'da' }) });
        assert.match(da.body, /<html lang="da">/);
        assert.match(da.body, /Giv adgang til dine klimadata/);
        assert.match(da.body, /el-, varme- og vandforbrug time for time/);
        assert.match(da.body, /3 år/);
        assert.match(da.body, /Klimaapp &lt;3rd&gt;/, 'the app name is escaped');
        const en = await browser.go({ path: authorizePath(thirdParty, scope, challenge, { lang: 'en' }) });
        assert.match(en.body, /Share your climate data/);
        assert.match(en.body, /electricity, heating and water use, hour by hour/);
        assert.match(en.body, /3 years/);
        const form = hidden(en.body);
        let r = await browser.go({ path: '/oauth/consent', form: { ...form, csrf: 'x'.repeat(43), decision: 'approve', days: '30' } });
        assert.equal(r.status, 403);
        r = await browser.go({ path: '/oauth/consent', form: { ...form, decision: 'approve', days: '2000' } });
        assert.equal(r.status, 400, 'at most 3 years');
        r = await browser.go({ path: '/oauth/consent', form: { ...form, decision: 'deny' } });
        assert.equal(r.status, 303);
        assert.equal(new URL(r.headers.location).searchParams.get('error'), 'access_denied');
    });

    // Issue 15, must-show 4: sign-out ends the server-side session; the CSRF token is bound to the session; Origin is
    // checked on the consent service's own forms.
    test('sign-out ends the login server-side: the old cookie no longer shows the consent screen nor approves', async () => {
        const { challenge } = pkce();
        const { browser, consentHtml, household } = await approve(port, thirdParty, 'summary:read', challenge);
        // the consent screen says who is signed in, with a "not you?" form
        assert.match(consentHtml, new RegExp(`signed in as the household <strong>${household.slice(0, 8)}…</strong>`));
        assert.match(consentHtml, /<form id="signed-in-as" method="post" action="\/oauth\/logout">/);
        assert.match(consentHtml, /id="not-you"/);
        const sid = browser.cookies.get('__Host-klima_session');
        const again = await browser.go({ path: authorizePath(thirdParty, 'summary:read', challenge) });
        assert.match(again.body, /action="\/oauth\/consent"/, 'signed in: the consent screen, no login');
        const form = hidden(again.body);
        const out = await browser.go({ path: '/oauth/logout', form: {}, headers: { origin: `http://127.0.0.1:${port}` } });
        assert.equal(out.status, 204, out.body);
        assert.ok(!browser.cookies.has('__Host-klima_session'), 'the cookie is dropped');
        // the same browser: the login form
        let r = await browser.go({ path: authorizePath(thirdParty, 'summary:read', challenge) });
        assert.equal(r.status, 200);
        assert.match(r.body, /name="household"/, 'the login form after sign-out');
        assert.doesNotMatch(r.body, /action="\/oauth\/consent"/);
        // someone who kept the old cookie (a shared computer): the session is over at the server too
        const thief = new Browser(port);
        thief.cookies.set('__Host-klima_session', sid);
        r = await thief.go({ path: authorizePath(thirdParty, 'summary:read', challenge) });
        assert.match(r.body, /name="household"/, 'the old session id shows the login form');
        r = await thief.go({ path: '/oauth/consent', form: { ...form, decision: 'approve', days: '30' } });
        assert.equal(r.status, 403, r.body);
        assert.match(r.body, /expired or was signed out/);
    });

    test('"Not you?" signs out and starts the authorization request again at the login', async () => {
        const { challenge } = pkce();
        const { browser, consentHtml } = await approve(port, thirdParty, 'summary:read', challenge);
        const notYou = /<form id="signed-in-as"[\s\S]*?<\/form>/.exec(consentHtml)[0];
        const fields = hidden(notYou);
        assert.ok(fields.q.includes(`client_id=${thirdParty}`), fields.q);
        const r = await browser.go({ path: '/oauth/logout', form: fields });
        assert.equal(r.status, 303, r.body);
        assert.equal(r.headers.location, `/oauth/authorize?${fields.q}`);
        const login = await browser.go({ path: r.headers.location });
        assert.match(login.body, /name="household"/, 'the login form');
    });

    test('CSRF: a planted cookie, another session\'s token and two session cookies are refused', async () => {
        const { challenge } = pkce();
        const victim = (await approve(port, thirdParty, 'summary:read', challenge)).browser;
        const page = await victim.go({ path: authorizePath(thirdParty, 'summary:read', challenge) });
        const form = hidden(page.body);
        // the attacker's own, legitimately obtained session and its token
        const attacker = new Browser(port);
        const own = await attacker.go({ path: authorizePath(thirdParty, 'summary:read', challenge) });
        const attackerCsrf = hidden(own.body).csrf;
        const attackerSid = attacker.cookies.get('__Host-klima_session');
        const post = (cookie, csrf) =>
            request(port, {
                method: 'POST',
                path: '/oauth/consent',
                headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
                body: new URLSearchParams({ ...form, csrf, decision: 'approve', days: '30' }).toString(),
            });
        const victimCookie = `__Host-klima_session=${victim.cookies.get('__Host-klima_session')}`;
        const cases = [
            ['a planted double-submit cookie (the old klima_csrf scheme)', `${victimCookie}; klima_csrf=${'x'.repeat(43)}`, 'x'.repeat(43)],
            ["another session's token", victimCookie, attackerCsrf],
            ['a second session cookie in front', `__Host-klima_session=${attackerSid}; ${victimCookie}`, form.csrf],
            ['a second session cookie behind', `${victimCookie}; __Host-klima_session=${attackerSid}`, form.csrf],
            ['no token', victimCookie, ''],
        ];
        for (const [what, cookie, csrf] of cases) {
            const r = await post(cookie, csrf);
            assert.equal(r.status, 403, `${what}: ${r.status} ${r.body}`);
            assert.match(r.body, /csrf/, what);
        }
        // the victim's own token with the victim's session is what works
        const ok = await post(victimCookie, form.csrf);
        assert.equal(ok.status, 303, ok.body);
    });

    test('Origin and Referer: a foreign one is 403 on login, consent and logout; the own one passes', async () => {
        const { challenge } = pkce();
        const b = new Browser(port);
        const page = await b.go({ path: authorizePath(thirdParty, 'summary:read', challenge) });
        const login = hidden(page.body);
        const household = /name="household" value="([0-9a-f-]{36})"/.exec(page.body)[1];
        const foreign = [{ origin: 'https://evil.example' }, { origin: 'null' }, { referer: 'https://evil.example/page' },
            { origin: `http://127.0.0.1:${port}.evil.example` }];
        for (const headers of foreign) {
            for (const [p, f] of [['/oauth/login', { ...login, household }], ['/oauth/consent', { ...login, decision: 'approve' }], ['/oauth/logout', {}]]) {
                const r = await b.go({ path: p, form: f, headers });
                assert.equal(r.status, 403, `${p} ${JSON.stringify(headers)}: ${r.status} ${r.body}`);
                assert.match(r.body, /Origin or Referer/);
            }
        }
        const own = await b.go({ path: '/oauth/login', form: { ...login, household }, headers: { origin: `http://127.0.0.1:${port}` } });
        assert.equal(own.status, 303, own.body);
        const ref = await b.go({ path: '/oauth/logout', form: {}, headers: { referer: `http://127.0.0.1:${port}/oauth/authorize?x=1` } });
        assert.equal(ref.status, 204, ref.body);
        // the token endpoint is for apps on their own origins (CORS): no Origin check there
        const tok = await request(port, {
            method: 'POST',
            path: '/oauth/token',
            headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://app.example' },
            body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: thirdParty, code_verifier: 'x', redirect_uri: REDIRECT }).toString(),
        });
        assert.equal(tok.status, 400, tok.body);
        assert.match(tok.body, /invalid_grant|invalid_request/);
    });

    describe('bearer tokens minted by jose with the service key', () => {
        let key, cid, good;
        const sign = async (claims, header = {}) =>
            new jose.SignJWT({ scope: 'consents:manage summary:read', cid, jti: crypto.randomUUID(), ...claims })
                .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header })
                .setIssuer(claims.iss ?? ISSUER)
                .setSubject(household)
                .setAudience(claims.aud ?? firstParty)
                .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
                .setNotBefore(claims.nbf ?? Math.floor(Date.now() / 1000))
                .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
                .sign(key);
        before(async () => {
            key = await jose.importPKCS8(crypto.createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem' }), 'ES256');
            const r = runCli(['token', '--household', household, '--scope', 'consents:manage summary:read', '--client', firstParty], {
                env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL, KLIMA_KEYS_DIR: keysDir, KLIMA_ISSUER: ISSUER },
            });
            assert.equal(r.status, 0, r.stderr);
            cid = /consent (\S+)/.exec(r.stderr)[1];
            good = await sign({});
        });

        test('a correct jose token is accepted; klimaspejl token mints one too', async () => {
            assert.equal((await bearer(port, good)).status, 200);
        });

        test('each broken token is refused with the check that failed', async () => {
            const now = Math.floor(Date.now() / 1000);
            const [h, p, s] = good.split('.');
            // the same signature spelled with '+' and '/': re-sign until the signature holds a '-' or '_' to respell
            let stdAlphabet = good;
            for (let t = good; stdAlphabet === good; t = await sign({})) {
                const [th, tp, ts] = t.split('.');
                stdAlphabet = `${th}.${tp}.${ts.replace(/-/g, '+').replace(/_/g, '/')}`;
                if (stdAlphabet !== t) assert.equal((await bearer(port, t)).status, 200, 'the canonical spelling is accepted');
                else stdAlphabet = good;
            }
            const claims = JSON.parse(Buffer.from(p, 'base64url'));
            const none = `${b64url(JSON.stringify({ alg: 'none', kid }))}.${p}.`;
            const none2 = `${b64url(JSON.stringify({ alg: 'none', kid }))}.${p}.${b64url('x')}`;
            const pub = crypto.createPublicKey(keyPem).export({ type: 'spki', format: 'pem' });
            const hs = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(Buffer.from(pub));
            const cases = [
                ['alg none', none, 'malformed'],
                ['alg none with a signature', none2, 'unsupported alg'],
                ['HS256 keyed with the public key', hs, 'unsupported alg'],
                ['unknown kid', await sign({}, { kid: 'nope' }), 'unknown kid'],
                ['expired', await sign({ iat: now - 4000, nbf: now - 4000, exp: now - 400 }), 'expired'],
                ['not yet valid', await sign({ nbf: now + 600, exp: now + 1200 }), 'not yet valid'],
                ['wrong aud', await sign({ aud: 'not-a-client-id' }), 'unknown consent'],
                ['aud that is no client id', await sign({ aud: 'x' }), 'wrong audience'],
                ['wrong iss', await sign({ iss: 'https://evil.example' }), 'wrong issuer'],
                ['lifetime over 1 h', await sign({ exp: now + 7200 }), 'bad claims'],
                ['tampered payload', `${h}.${b64url(JSON.stringify({ ...claims, scope: 'export:read consents:manage' }))}.${s}`, 'bad signature'],
                ['truncated', good.slice(0, -10), 'bad signature'],
                ['unknown consent', await sign({ cid: crypto.randomUUID() }), 'unknown consent'],
                // one canonical encoding (base64url without padding) and one kind of token (RFC 9068 typ at+jwt)
                ['typ JWT', await sign({}, { typ: 'JWT' }), 'not an access token'],
                ['typ of a session cookie', await sign({}, { typ: 'session+jwt' }), 'not an access token'],
                ['no typ', await sign({}, { typ: undefined }), 'not an access token'],
                ['signature with padding', `${good}==`, 'malformed'],
                ['signature in the standard alphabet', stdAlphabet, 'malformed'],
            ];
            for (const [name, tok, check] of cases) {
                const r = await bearer(port, tok);
                assert.equal(r.status, 401, `${name}: ${r.status} ${r.body}`);
                assertInvalid(r, check);
                assert.ok(!r.body.includes(tok), `${name}: the token is not echoed`);
            }
            const long = await bearer(port, `${good}${'A'.repeat(100 * 1024)}`);
            assert.ok([401, 431].includes(long.status), `100 KB token: ${long.status}`);
            const missing = await request(port, { path: '/v1/me/consents' });
            assertInvalid(missing);
            assert.equal(missing.headers['www-authenticate'], 'Bearer realm="klimaspejl"');
        });

        test('two Authorization headers are 400 invalid_request, whichever comes first', async () => {
            for (const pair of [[`Bearer ${good}`, 'Bearer x'], ['Bearer x', `Bearer ${good}`], [`Bearer ${good}`, `Bearer ${good}`]]) {
                const r = await request(port, { path: '/v1/me/consents', headers: { authorization: pair } });
                assert.equal(r.status, 400, r.body);
                assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
                assert.match(String(r.headers['www-authenticate']), /error="invalid_request"/);
                assert.equal(JSON.parse(r.body).parameter ?? 'Authorization', 'Authorization');
            }
        });

        test('a missing scope is 403 insufficient_scope', async () => {
            const r = await bearer(port, await sign({ scope: 'summary:read' }));
            assert.equal(r.status, 403, r.body);
            assert.match(String(r.headers['www-authenticate']), /error="insufficient_scope", scope="consents:manage"/);
            assert.equal(JSON.parse(r.body).type, '/docs/problems#insufficient-scope');
        });

        test('revoking the consent refuses the jose token on every worker within 1 s', async () => {
            for (let i = 0; i < 8; ++i) assert.equal((await bearer(port, good)).status, 200);
            psql(DB_ADMIN_URL, `SELECT core.consent_revoke('${cid}', 'admin')`);
            await refusedEverywhere(port, good);
        });
    });
});

// Issue 15, must-show 7: the dev login lets anyone sign in as a demo household, so it warns at start and starts only on
// loopback listen addresses without TLS unless KLIMA_DEV_LOGIN=force.
describe('dev login: a warning at start, refused off loopback and with TLS unless forced', () => {
    const serve = (env) =>
        runCli(['serve'], { env: { KLIMA_DB_URL: 'host=/nonexistent dbname=x', KLIMA_LOG_LEVEL: 'info', ...env }, timeout: 20_000 });

    test('a non-loopback listen address or TLS refuses to start, naming the setting', () => {
        const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-devtls-'));
        try {
            for (const env of [
                { KLIMA_DEV_LOGIN: '1', KLIMA_LISTEN: '0.0.0.0:1' },
                { KLIMA_DEV_LOGIN: '1', KLIMA_LISTEN: '127.0.0.1:1,[::]:1' },
                { KLIMA_DEV_LOGIN: '1', KLIMA_LISTEN: '127.0.0.1:1', KLIMA_TLS_CERT: path.join(certDir, 'c.pem'), KLIMA_TLS_KEY: path.join(certDir, 'k.pem') },
            ]) {
                const r = serve(env);
                assert.notEqual(r.status, 0, `${JSON.stringify(env)} started:\n${r.stderr}`);
                assert.match(r.stderr, /KLIMA_DEV_LOGIN=1 refused: (a listen address is not loopback \(KLIMA_LISTEN\)|TLS is configured \(KLIMA_TLS_CERT\))/);
                assert.match(r.stderr, /KLIMA_DEV_LOGIN=force/);
            }
        } finally {
            fs.rmSync(certDir, { recursive: true, force: true });
        }
    });

    test('on loopback it starts with a warning; force starts on every address, still warning; off says nothing', async () => {
        const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        try {
            assert.equal(runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keysDir } }).status, 0);
            for (const [value, wildcard, warned] of [['1', false, true], ['force', true, true], ['0', false, false]]) {
                const env = { KLIMA_KEYS_DIR: keysDir, KLIMA_DEV_LOGIN: value, KLIMA_LOG_LEVEL: 'info' };
                // a wildcard listen address (KLIMA_LISTEN=0.0.0.0:PORT) is still reachable on 127.0.0.1:PORT
                if (wildcard) env.KLIMA_LISTEN = `0.0.0.0:${await freePort()}`;
                const srv = await startServer({ env, port: wildcard ? Number(env.KLIMA_LISTEN.split(':')[1]) : undefined });
                const out = srv.output();
                assertCleanExit(assert, await srv.stop());
                if (wildcard) assert.match(out, /listening on http:\/\/0\.0\.0\.0:/);
                if (warned) assert.match(out, /warn the dev login is ON \(KLIMA_DEV_LOGIN=(1|force)\): anyone who reaches this server can sign in/);
                else assert.doesNotMatch(out, /dev login is ON/);
                if (wildcard) assert.match(out, /forced although a listen address is not loopback/);
            }
        } finally {
            fs.rmSync(keysDir, { recursive: true, force: true });
        }
    });
});
