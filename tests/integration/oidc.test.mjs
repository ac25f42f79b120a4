// oidc.test.mjs — issue 5, the production citizen login: klimaspejl as an OpenID Connect relying party without a back
// channel (response_type=id_token, response_mode=form_post). The test plays the identity provider with npm `jose`: it
// makes an ES256 key pair, gives the server the public PEM (KLIMA_OIDC_*, no dev login), links a subject to a household
// with `klimaspejl citizen link`, and drives a browser through authorize -> 302 to the provider -> the provider's
// form_post of a signed id_token to /oauth/oidc/callback -> session cookie -> consent screen -> code -> token -> a
// personal call. Then every way the answer can be wrong: another key, alg none, HS256 keyed with the public key,
// wrong iss, wrong aud, expired, wrong nonce, a reused state, an unlinked subject, and the provider's error.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as jose from 'jose';

import { DB_ADMIN_URL, assertCleanExit, freePort, psql, request, runCli, startServer } from './harness.mjs';
import { SpecChecker, assertMatchesSpec, loadSpec } from './openapi-check.mjs';

const checker = new SpecChecker(loadSpec());

const ISSUER = 'http://klimaspejl.test';
const IDP = 'https://login.idp.test/realms/kk';
const IDP_CLIENT = 'klimaspejl-citizens';
const REDIRECT = 'http://localhost:9/cb';
const CALLBACK = '/oauth/oidc/callback';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const pkce = () => {
    const verifier = b64url(crypto.randomBytes(32));
    return { verifier, challenge: b64url(crypto.createHash('sha256').update(verifier).digest()) };
};
const now = () => Math.floor(Date.now() / 1000);

// A minimal cookie jar for one browser; `crossSite: true` sends no cookie (a cross-site POST carries no
// SameSite=Lax cookie), but the answer's cookies are kept.
class Browser {
    constructor(port) {
        this.port = port;
        this.cookies = new Map();
    }
    async go(opts) {
        const headers = { ...(opts.headers || {}) };
        if (this.cookies.size && !opts.crossSite) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        if (opts.form) {
            headers['content-type'] = 'application/x-www-form-urlencoded';
            opts = { ...opts, method: 'POST', body: new URLSearchParams(opts.form).toString() };
        }
        const r = await request(this.port, { ...opts, headers });
        for (const c of [].concat(r.headers['set-cookie'] || [])) {
            const [kv, ...attrs] = c.split(';').map((s) => s.trim());
            const i = kv.indexOf('=');
            this.cookies.set(kv.slice(0, i), kv.slice(i + 1));
            assert.ok(attrs.includes('HttpOnly'), `cookie ${kv.slice(0, i)} is HttpOnly`);
            assert.ok(attrs.includes('SameSite=Lax'), `cookie ${kv.slice(0, i)} is SameSite=Lax`);
            // __Host- cookies are Secure with and without TLS (browsers keep them on http://localhost and 127.0.0.1)
            assert.ok(attrs.includes('Secure'), 'Secure also without TLS');
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

describe('oidc: citizen login through a configured OpenID Connect identity provider', () => {
    let srv, port, keysDir, idpDir, idpKeys, otherKeys, pubPem, client, household, subject;

    // The identity provider's id_token for this login.
    const idToken = async ({ nonce, sub = subject, iss = IDP, aud = IDP_CLIENT, iat = now(), exp = now() + 300, key } = {}) =>
        new jose.SignJWT({ nonce, ...(sub === null ? {} : { sub }) })
            .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
            .setIssuer(iss)
            .setAudience(aud)
            .setIssuedAt(iat)
            .setExpirationTime(exp)
            .sign(key || idpKeys.privateKey);

    // GET /oauth/authorize without a session: 302 to the provider; returns the browser and the state and nonce sent.
    async function startLogin(extra = {}) {
        const b = new Browser(port);
        const { verifier, challenge } = pkce();
        const p = authorizePath(client, 'consents:manage', challenge, { lang: 'en', ...extra });
        const r = await b.go({ path: p });
        assertMatchesSpec(assert, checker, 'GET', p, r);
        assert.equal(r.status, 302, r.body);
        assert.equal(r.headers['cache-control'], 'no-store');
        const loc = new URL(r.headers.location);
        assert.equal(`${loc.origin}${loc.pathname}`, `${IDP}/authorize`);
        const q = Object.fromEntries(loc.searchParams);
        assert.equal(q.response_type, 'id_token');
        assert.equal(q.response_mode, 'form_post');
        assert.equal(q.scope, 'openid');
        assert.equal(q.client_id, IDP_CLIENT);
        assert.equal(q.redirect_uri, `${ISSUER}${CALLBACK}`);
        assert.match(q.state, /^[A-Za-z0-9_-]{43}$/);
        assert.match(q.nonce, /^[A-Za-z0-9_-]{43}$/);
        assert.notEqual(q.state, q.nonce);
        assert.ok(!q.state.includes('st-123') && !r.headers.location.includes('st-123'), "the app's state stays at klimaspejl");
        return { b, state: q.state, nonce: q.nonce, verifier };
    }

    // The provider's form_post to the callback (cross-site: no cookies sent).
    async function callback(b, form) {
        const r = await b.go({ path: CALLBACK, form, crossSite: true });
        assertMatchesSpec(assert, checker, 'POST', CALLBACK, r);
        return r;
    }

    function assertRefused(r, parameter, check, token) {
        assert.equal(r.status, 400, r.body);
        const p = JSON.parse(r.body);
        assert.equal(p.parameter, parameter, r.body);
        if (check) assert.ok(p.detail.includes(check), `${p.detail} names ${check}`);
        if (token) for (const part of token.split('.').filter((s) => s.length > 8)) assert.ok(!r.body.includes(part), 'the token is not echoed');
    }

    before(async () => {
        keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        idpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-idp-'));
        const k = runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keysDir } });
        assert.equal(k.status, 0, k.stderr);
        idpKeys = await jose.generateKeyPair('ES256', { extractable: true });
        otherKeys = await jose.generateKeyPair('ES256', { extractable: true });
        pubPem = await jose.exportSPKI(idpKeys.publicKey);
        fs.writeFileSync(path.join(idpDir, 'idp.pem'), pubPem);
        const add = runCli(['client', 'add', '--name', 'Mit Klima (OIDC test)', '--redirect-uri', REDIRECT, '--first-party'], {
            env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL },
        });
        assert.equal(add.status, 0, add.stderr);
        client = /client_id (\S+)/.exec(add.stdout)[1];
        household = psql(DB_ADMIN_URL, 'SELECT household_id FROM api.dev_households(2) ORDER BY household_id DESC LIMIT 1');
        subject = `citizen-${crypto.randomUUID()}`;
        const link = runCli(['citizen', 'link', '--subject', subject, '--household', household], {
            env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL, KLIMA_OIDC_ISSUER: IDP },
        });
        assert.equal(link.status, 0, link.stderr);
        assert.match(link.stdout, new RegExp(`linked subject ${subject} at ${IDP} to household ${household}`));
        const list = runCli(['citizen', 'list', '--household', household, '--issuer', IDP], { env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL } });
        assert.equal(list.status, 0, list.stderr);
        assert.ok(list.stdout.split('\n').some((l) => l.startsWith(`${IDP}\t${subject}\t${household}\t`)), list.stdout);
        srv = await startServer({
            env: {
                KLIMA_KEYS_DIR: keysDir,
                KLIMA_DEV_LOGIN: '0',
                KLIMA_ISSUER: ISSUER,
                KLIMA_OIDC_ISSUER: IDP,
                KLIMA_OIDC_KEY: path.join(idpDir, 'idp.pem'),
                KLIMA_OIDC_CLIENT_ID: IDP_CLIENT,
            },
        });
        port = srv.port;
    });
    after(async () => {
        if (srv && srv.exited() === null) assertCleanExit(assert, await srv.stop());
        if (subject) runCli(['citizen', 'unlink', '--subject', subject, '--issuer', IDP], { env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL } });
        if (client) runCli(['client', 'remove', client], { env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL } });
        for (const d of [keysDir, idpDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
    });

    test('the whole flow: authorize, the provider, callback, session, consent, code, token, personal call', async () => {
        const { b, state, nonce, verifier } = await startLogin();
        assert.ok(!b.cookies.has('__Host-klima_session'));
        const token = await idToken({ nonce });
        let r = await callback(b, { id_token: token, state });
        assert.equal(r.status, 303, r.body);
        assert.ok(b.cookies.has('__Host-klima_session'), 'the callback itself sets the session cookie');
        const back = new URL(r.headers.location, ISSUER);
        assert.equal(back.pathname, '/oauth/authorize');
        assert.equal(back.searchParams.get('client_id'), client);
        assert.equal(back.searchParams.get('state'), 'st-123');

        // the top-level GET back to authorize carries the cookie: the consent screen, as after the dev login
        r = await b.go({ path: `${back.pathname}${back.search}` });
        assert.equal(r.status, 200, r.body);
        assert.match(r.body, /Mit Klima \(OIDC test\)/);
        assert.match(r.body, /action="\/oauth\/consent"/);
        const form = hidden(r.body);
        assert.equal(form.csrf.length, 43);
        r = await b.go({ path: '/oauth/consent', form: { ...form, days: '30', decision: 'approve' } });
        assert.equal(r.status, 303, r.body);
        const loc = new URL(r.headers.location);
        assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
        assert.equal(loc.searchParams.get('state'), 'st-123');
        const code = loc.searchParams.get('code');

        r = await request(port, {
            method: 'POST',
            path: '/oauth/token',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: client }).toString(),
        });
        assert.equal(r.status, 200, r.body);
        const t = JSON.parse(r.body);
        assert.equal(jose.decodeJwt(t.access_token).sub, household, "the token speaks for the subject's household");

        r = await request(port, { path: '/v1/me/consents', headers: { authorization: `Bearer ${t.access_token}` } });
        assertMatchesSpec(assert, checker, 'GET', '/v1/me/consents', r);
        assert.equal(r.status, 200, r.body);
        const mine = JSON.parse(r.body).find((c) => c.id === jose.decodeJwt(t.access_token).cid);
        assert.equal(mine.status, 'active');
        assert.equal(mine.client_name, 'Mit Klima (OIDC test)');

        // the state was used: the same answer again is refused, and sets no cookie
        const again = new Browser(port);
        r = await callback(again, { id_token: token, state });
        assertRefused(r, 'state', 'used already', token);
        assert.ok(!again.cookies.has('__Host-klima_session'));
    });

    test('an id_token that fails a check is refused with 400 naming the check, never echoing the token', async () => {
        const cases = [
            ['signed with another key', (nonce) => idToken({ nonce, key: otherKeys.privateKey }), 'bad signature'],
            ['alg none', (nonce) => new jose.UnsecuredJWT({ nonce, sub: subject }).setIssuer(IDP).setAudience(IDP_CLIENT).setIssuedAt().setExpirationTime('5m').encode(), 'unsupported alg'],
            [
                'HS256 keyed with the public key',
                (nonce) =>
                    new jose.SignJWT({ nonce, sub: subject })
                        .setProtectedHeader({ alg: 'HS256' })
                        .setIssuer(IDP)
                        .setAudience(IDP_CLIENT)
                        .setIssuedAt()
                        .setExpirationTime('5m')
                        .sign(new TextEncoder().encode(pubPem)),
                'unsupported alg',
            ],
            ['wrong iss', (nonce) => idToken({ nonce, iss: 'https://evil.idp.test' }), 'wrong issuer'],
            ['wrong aud', (nonce) => idToken({ nonce, aud: 'another-app' }), 'wrong audience'],
            ['aud list without us', (nonce) => idToken({ nonce, aud: ['a-app', 'b-app'] }), 'wrong audience'],
            ['expired', (nonce) => idToken({ nonce, iat: now() - 900, exp: now() - 120 }), 'expired'],
            ['issued in the future', (nonce) => idToken({ nonce, iat: now() + 600, exp: now() + 900 }), 'not yet valid'],
            ['no sub', (nonce) => idToken({ nonce, sub: null }), 'bad claims'],
            ['wrong nonce', () => idToken({ nonce: b64url(crypto.randomBytes(32)) }), 'nonce mismatch'],
            ['tampered payload', async (nonce) => {
                const [h, , s] = (await idToken({ nonce })).split('.');
                return `${h}.${b64url(JSON.stringify({ iss: IDP, aud: IDP_CLIENT, sub: 'someone-else', nonce, iat: now(), exp: now() + 300 }))}.${s}`;
            }, 'bad signature'],
            ['not a JWT', () => 'garbage', 'malformed'],
        ];
        for (const [what, make, check] of cases) {
            const { b, state, nonce } = await startLogin();
            const token = await make(nonce);
            const r = await callback(b, { id_token: token, state });
            assertRefused(r, 'id_token', check, token);
            assert.ok(!b.cookies.has('__Host-klima_session'), `${what}: no session`);
        }
        // leeway: exp 30 s ago is still inside the 60 s allowed
        const { b, state, nonce } = await startLogin();
        const r = await callback(b, { id_token: await idToken({ nonce, iat: now() - 600, exp: now() - 30 }), state });
        assert.equal(r.status, 303, r.body);
    });

    test('a state is single use even after a refused answer, and must be one klimaspejl sent', async () => {
        const { b, state, nonce } = await startLogin();
        let r = await callback(b, { id_token: await idToken({ nonce: 'x'.repeat(43) }), state });
        assertRefused(r, 'id_token', 'nonce mismatch');
        r = await callback(b, { id_token: await idToken({ nonce }), state });
        assertRefused(r, 'state', 'used already');
        r = await callback(b, { id_token: await idToken({ nonce }), state: b64url(crypto.randomBytes(32)) });
        assertRefused(r, 'state', 'unknown');
        r = await callback(b, { id_token: await idToken({ nonce }) });
        assertRefused(r, 'state');
        r = await callback(b, { state });
        assertRefused(r, 'id_token');
        r = await request(port, { method: 'POST', path: CALLBACK, headers: { 'content-type': 'application/json' }, body: '{}' });
        assertMatchesSpec(assert, checker, 'POST', CALLBACK, r);
        assert.equal(r.status, 415);
    });

    test('a valid login of a subject linked to no household gets a clear page in Danish and English', async () => {
        for (const lang of ['da', 'en']) {
            const { b, state, nonce } = await startLogin({ lang });
            const token = await idToken({ nonce, sub: `stranger-${crypto.randomUUID()}` });
            const r = await callback(b, { id_token: token, state });
            assert.equal(r.status, 403, r.body);
            assert.match(r.headers['content-type'], /^text\/html/);
            assert.equal(r.headers['content-language'], lang);
            assert.match(r.body, /Dit login er ikke knyttet til en husstand/);
            assert.match(r.body, /Your login is not linked to a household/);
            const first = lang === 'da' ? /<h1>Dit login/ : /<h1>Your login/;
            assert.match(r.body, first);
            const backLink = /<a id="back" href="([^"]+)"/.exec(r.body)[1].replace(/&amp;/g, '&');
            const u = new URL(backLink);
            assert.equal(`${u.origin}${u.pathname}`, REDIRECT);
            assert.equal(u.searchParams.get('error'), 'access_denied');
            assert.equal(u.searchParams.get('state'), 'st-123');
            assert.ok(!b.cookies.has('__Host-klima_session'));
            for (const part of token.split('.')) assert.ok(!r.body.includes(part));
        }
    });

    test("the provider's error goes back to the app as access_denied with the app's state (RFC 6749 4.1.2.1)", async () => {
        const { b, state } = await startLogin();
        let r = await callback(b, { error: 'access_denied', error_description: 'user cancelled', state });
        assert.equal(r.status, 303, r.body);
        const loc = new URL(r.headers.location);
        assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
        assert.equal(loc.searchParams.get('error'), 'access_denied');
        assert.equal(loc.searchParams.get('state'), 'st-123');
        assert.ok(!b.cookies.has('__Host-klima_session'));
        // the state is gone with it
        r = await callback(b, { error: 'access_denied', state });
        assertRefused(r, 'state', 'unknown');
        // an outage at the provider
        const second = await startLogin();
        r = await callback(second.b, { error: 'temporarily_unavailable', state: second.state });
        assert.equal(new URL(r.headers.location).searchParams.get('error'), 'temporarily_unavailable');
    });

    test('a session from the provider skips the login on the next authorization request', async () => {
        const { b, state, nonce } = await startLogin();
        let r = await callback(b, { id_token: await idToken({ nonce }), state });
        assert.equal(r.status, 303, r.body);
        const { challenge } = pkce();
        r = await b.go({ path: authorizePath(client, 'consents:manage', challenge) });
        assert.equal(r.status, 200, r.body);
        assert.match(r.body, /action="\/oauth\/consent"/);
    });

    test('without an identity provider and without the dev login: temporarily_unavailable; callback 404', async () => {
        const plain = await startServer({ env: { KLIMA_KEYS_DIR: keysDir, KLIMA_DEV_LOGIN: '0', KLIMA_ISSUER: ISSUER } });
        try {
            const { challenge } = pkce();
            const p = authorizePath(client, 'consents:manage', challenge);
            let r = await request(plain.port, { path: p });
            assertMatchesSpec(assert, checker, 'GET', p, r);
            assert.equal(r.status, 303, r.body);
            const loc = new URL(r.headers.location);
            assert.equal(loc.searchParams.get('error'), 'temporarily_unavailable');
            assert.equal(loc.searchParams.get('state'), 'st-123');
            r = await request(plain.port, {
                method: 'POST',
                path: CALLBACK,
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: `state=${b64url(crypto.randomBytes(32))}&id_token=x.y.z`,
            });
            assertMatchesSpec(assert, checker, 'POST', CALLBACK, r);
            assert.equal(r.status, 404);
        } finally {
            assertCleanExit(assert, await plain.stop());
        }
    });

    test('an incomplete or wrong identity provider setting stops the server with a message naming it', async () => {
        const listen = `127.0.0.1:${await freePort()}`;
        const bad = [
            [{ KLIMA_OIDC_ISSUER: IDP }, /KLIMA_OIDC_CLIENT_ID/],
            [{ KLIMA_OIDC_ISSUER: IDP, KLIMA_OIDC_CLIENT_ID: IDP_CLIENT }, /KLIMA_OIDC_KEY/],
            [{ KLIMA_OIDC_ISSUER: IDP, KLIMA_OIDC_CLIENT_ID: IDP_CLIENT, KLIMA_OIDC_KEY: path.join(idpDir, 'missing.pem') }, /KLIMA_OIDC_KEY: cannot read/],
            [{ KLIMA_OIDC_ISSUER: IDP, KLIMA_OIDC_CLIENT_ID: IDP_CLIENT, KLIMA_OIDC_KEY: path.join(keysDir, fs.readdirSync(keysDir)[0]) }, /KLIMA_OIDC_KEY: .*not a PEM public key/],
        ];
        for (const [env, message] of bad) {
            const r = runCli(['serve'], { env: { KLIMA_LISTEN: listen, KLIMA_KEYS_DIR: keysDir, KLIMA_LOG_LEVEL: 'info', ...env }, timeout: 20_000 });
            assert.notEqual(r.status, 0, `${JSON.stringify(env)}: ${r.stderr}`);
            assert.match(r.stderr + r.stdout, message);
        }
    });
});
