// cors.test.mjs — CORS (app/gate.c): open routes answer any origin with `Access-Control-Allow-Origin: *` and expose
// ETag, RateLimit and the like; personal routes and /oauth/token, /oauth/revoke answer only the origins of registered
// clients (their http(s) redirect URIs and `client add --origin`), with Vary: Origin and never credentials; preflights
// are answered generically (204, or 403 problem for an origin that is not allowed); a client registered while the
// server runs is allowed within the reload interval.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, h2request, psql, request, runCli, sleep, startServer, waitReady } from './harness.mjs';

const APP = 'https://app.cors-test.example';
const DEV = 'http://localhost:5173';
const EVIL = 'https://evil.cors-test.example';

function preflight(port, p, origin, method = 'GET', headers = 'authorization, if-none-match') {
    return request(port, {
        method: 'OPTIONS',
        path: p,
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
    });
}

function vary(res) {
    return String(res.headers.vary || '')
        .split(',')
        .map((s) => s.trim().toLowerCase());
}

describe('CORS', () => {
    let srv;
    let keys;
    let env;
    let token;
    const clients = [];

    const addClient = (...args) => {
        const c = runCli(['client', 'add', '--name', 'CORS test', ...args], { env });
        assert.equal(c.status, 0, c.stderr);
        const id = /client_id\s+(\S+)/.exec(c.stdout)[1];
        clients.push(id);
        return id;
    };

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        // the redirect URI's origin is https://app... (default port dropped); the dev origin is given explicitly
        const client = addClient('--redirect-uri', `${APP}:443/callback?x=1`, '--origin', DEV);
        const household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1').trim();
        const r = runCli(['token', '--household', household, '--scope', 'summary:read', '--client', client], { env });
        assert.equal(r.status, 0, r.stderr);
        token = r.stdout.trim().split('\n').pop().trim();
        srv = await startServer({ env: { KLIMA_KEYS_DIR: keys } });
        await waitReady(srv.port);
        // each worker loads the origins once its database connection is up (within a fraction of a second)
        for (let t0 = Date.now(); Date.now() - t0 < 5000; await sleep(100)) {
            const rs = await Promise.all([1, 2, 3, 4].map(() => preflight(srv.port, '/v1/me/summary', APP)));
            if (rs.every((r) => r.status === 204)) break;
        }
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        for (const id of clients) runCli(['client', 'remove', id], { env });
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test('open GET routes: any origin, with the useful fields exposed', async () => {
        for (const p of ['/v1/datasets', '/v1/datasets/energy-district-daily/records?limit=1', '/v1/emission-factors', '/openapi.json']) {
            const r = await request(srv.port, { path: p, headers: { origin: EVIL } });
            assert.equal(r.status, 200, `${p}: ${r.body}`);
            assert.equal(r.headers['access-control-allow-origin'], '*', p);
            assert.equal(r.headers['access-control-allow-credentials'], undefined);
            const exposed = String(r.headers['access-control-expose-headers']).toLowerCase();
            for (const h of ['etag', 'ratelimit', 'ratelimit-policy', 'retry-after', 'content-disposition', 'link']) {
                assert.ok(exposed.split(/,\s*/).includes(h), `${p} exposes ${h}: ${exposed}`);
            }
        }
        // errors of open routes are readable too (a script can show the problem)
        const bad = await request(srv.port, { path: '/v1/datasets/energy-district-daily/records?limit=x', headers: { origin: EVIL } });
        assert.equal(bad.status, 400);
        assert.equal(bad.headers['access-control-allow-origin'], '*');
        // and over HTTP/2
        const h2 = await h2request(srv.port, { path: '/v1/datasets', headers: { origin: EVIL } });
        assert.equal(h2.headers['access-control-allow-origin'], '*');
    });

    test('personal routes: a registered client origin is echoed, any other gets no CORS fields', async () => {
        const auth = { authorization: `Bearer ${token}` };
        for (const origin of [APP, DEV]) {
            const r = await request(srv.port, { path: '/v1/me/summary', headers: { ...auth, origin } });
            assert.ok(r.status === 200 || r.status === 404, r.body);
            assert.equal(r.headers['access-control-allow-origin'], origin);
            assert.equal(r.headers['access-control-allow-credentials'], undefined, 'bearer tokens: never credentials');
            assert.ok(vary(r).includes('origin'), `Vary: ${r.headers.vary}`);
            assert.match(String(r.headers['access-control-expose-headers']), /WWW-Authenticate/);
        }
        const evil = await request(srv.port, { path: '/v1/me/summary', headers: { ...auth, origin: EVIL } });
        assert.equal(evil.headers['access-control-allow-origin'], undefined);
        assert.ok(vary(evil).includes('origin'));
        // the origin must match exactly: scheme, host and port
        for (const near of ['http://app.cors-test.example', `${APP}:8443`, 'https://app.cors-test.example.evil.example', 'null']) {
            const r = await request(srv.port, { path: '/v1/me/summary', headers: { ...auth, origin: near } });
            assert.equal(r.headers['access-control-allow-origin'], undefined, near);
        }
        // without Origin (not a browser) nothing changes but Vary
        const plain = await request(srv.port, { path: '/v1/me/summary', headers: auth });
        assert.equal(plain.headers['access-control-allow-origin'], undefined);
        assert.ok(vary(plain).includes('origin'));
        // a 401 is readable by the registered app (so it can refresh its token)
        const unauth = await request(srv.port, { path: '/v1/me/summary', headers: { origin: APP } });
        assert.equal(unauth.status, 401);
        assert.equal(unauth.headers['access-control-allow-origin'], APP);
    });

    test('preflights: 204 with the allowed methods and headers, or 403 problem', async () => {
        const open = await preflight(srv.port, '/v1/datasets/energy-district-daily/records', EVIL);
        assert.equal(open.status, 204, open.body);
        assert.equal(open.headers['access-control-allow-origin'], '*');
        assert.match(String(open.headers['access-control-allow-methods']), /\bGET\b/);
        const allowed = String(open.headers['access-control-allow-headers']).toLowerCase();
        for (const h of ['authorization', 'if-none-match']) assert.ok(allowed.includes(h), allowed);
        assert.match(String(open.headers['access-control-max-age']), /^[1-9][0-9]*$/);

        const me = await preflight(srv.port, '/v1/me/summary', APP);
        assert.equal(me.status, 204, me.body);
        assert.equal(me.headers['access-control-allow-origin'], APP);
        assert.ok(vary(me).includes('origin'));
        const del = await preflight(srv.port, '/v1/me/consents/00000000-0000-0000-0000-000000000000', DEV, 'DELETE');
        assert.equal(del.status, 204);
        assert.match(String(del.headers['access-control-allow-methods']), /\bDELETE\b/);
        const tok = await preflight(srv.port, '/oauth/token', APP, 'POST', 'content-type');
        assert.equal(tok.status, 204);
        assert.equal(tok.headers['access-control-allow-origin'], APP);

        for (const p of ['/v1/me/summary', '/oauth/token', '/oauth/revoke']) {
            const r = await preflight(srv.port, p, EVIL, p.startsWith('/oauth') ? 'POST' : 'GET');
            assert.equal(r.status, 403, `${p}: ${r.body}`);
            assert.equal(r.headers['access-control-allow-origin'], undefined);
            assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
            assert.equal(JSON.parse(r.body).type, '/docs/problems#origin-not-allowed');
        }
        // the login and consent forms are this server's own pages, /metrics is the operator's: no cross-origin scripts
        assert.equal((await preflight(srv.port, '/oauth/consent', APP, 'POST')).status, 403);
        assert.equal((await preflight(srv.port, '/metrics', EVIL)).status, 403);
        const metrics = await request(srv.port, { path: '/metrics', headers: { origin: EVIL } });
        assert.equal(metrics.status, 200);
        assert.equal(metrics.headers['access-control-allow-origin'], undefined);
        // a plain OPTIONS (no preflight) lists the methods; an unknown path is still 404
        const plain = await request(srv.port, { method: 'OPTIONS', path: '/v1/datasets' });
        assert.equal(plain.status, 204);
        assert.equal(plain.headers.allow, 'GET, HEAD, OPTIONS');
        assert.equal((await request(srv.port, { method: 'OPTIONS', path: '/v1/nothing-here' })).status, 404);
    });

    test('a client registered while the server runs is allowed within the reload interval', async () => {
        const late = 'https://late.cors-test.example';
        assert.equal((await preflight(srv.port, '/v1/me/summary', late)).status, 403);
        addClient('--redirect-uri', `${late}/cb`);
        const t0 = Date.now();
        let status = 0;
        // every worker reloads the list every 10 s; both must have it
        while (Date.now() - t0 < 25_000) {
            const rs = await Promise.all([1, 2, 3, 4].map(() => preflight(srv.port, '/v1/me/summary', late)));
            if (rs.every((r) => r.status === 204)) {
                status = 204;
                break;
            }
            await sleep(500);
        }
        assert.equal(status, 204, `allowed after ${Date.now() - t0} ms`);
    });
});
