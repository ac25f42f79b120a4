// countries.test.mjs — KLIMA_PERSONAL_COUNTRIES (app/gate.c): with the list set, personal routes (/v1/me/...) and the
// consent routes (/oauth/...) answer only clients whose address (X-Forwarded-For from a trusted proxy, looked up in
// the test GeoIP database) is in a listed country; others, and unknown countries (ZZ), get a 403 problem, while open
// routes still work for everyone. A malformed list stops the server with a message naming the setting.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, psql, request, ROOT, runCli, startServer, waitReady } from './harness.mjs';

const GEOIP = path.join(ROOT, 'tests/fixtures/geoip/test-country.mmdb');
const DK = '81.0.77.1';
const US = '8.8.8.8';
const SE = '5.5.1.1';

describe('personal routes only from listed countries', () => {
    let srv;
    let keys;
    let env;
    let client;
    let token;

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Country test', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
        assert.equal(c.status, 0, c.stderr);
        client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        const household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1').trim();
        const t = runCli(['token', '--household', household, '--scope', 'summary:read', '--client', client], { env });
        assert.equal(t.status, 0, t.stderr);
        token = t.stdout.trim().split('\n').pop().trim();
        srv = await startServer({
            env: {
                KLIMA_KEYS_DIR: keys,
                KLIMA_TRUSTED_PROXIES: '127.0.0.1',
                KLIMA_GEOIP_DB: GEOIP,
                KLIMA_PERSONAL_COUNTRIES: 'dk, SE',
            },
        });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        runCli(['client', 'remove', client], { env });
        fs.rmSync(keys, { recursive: true, force: true });
    });

    const me = (ip) =>
        request(srv.port, { path: '/v1/me/summary', headers: { authorization: `Bearer ${token}`, ...(ip ? { 'x-forwarded-for': ip } : {}) } });

    function assertRefused(res) {
        assert.equal(res.status, 403, res.body);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        const p = JSON.parse(res.body);
        assert.equal(p.type, '/docs/problems#country-not-allowed');
        assert.equal(p.status, 403);
        assert.ok(!res.body.includes(token), 'the token is not echoed');
    }

    test('a listed country passes', async () => {
        for (const ip of [DK, SE]) {
            const r = await me(ip);
            assert.ok(r.status === 200 || r.status === 404, `${ip}: ${r.status} ${r.body}`);
        }
    });

    test('every X-Forwarded-For line counts: a forged first line cannot stand in for the one the proxy appended', async () => {
        // the client wrote a Danish address; the trusted proxy (127.0.0.1) appended the client's real, US address
        assertRefused(await me(`${DK}, ${US}`)); // one line
        assertRefused(await me([DK, US])); // the same two addresses as two header lines
        const fromDk = await me([US, DK]); // a forged US line in front of the real, Danish one
        assert.ok(fromDk.status === 200 || fromDk.status === 404, `${fromDk.status} ${fromDk.body}`);
    });

    test('another country and an unknown one get 403 on personal and consent routes', async () => {
        assertRefused(await me(US));
        assertRefused(await me()); // 127.0.0.1: no country (ZZ)
        assertRefused(await me('10.1.2.3')); // private address: ZZ
        assertRefused(
            await request(srv.port, {
                method: 'POST',
                path: '/oauth/token',
                headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': US },
                body: 'grant_type=refresh_token&refresh_token=x&client_id=y',
            }),
        );
        assertRefused(await request(srv.port, { path: '/oauth/authorize?response_type=code', headers: { 'x-forwarded-for': US } }));
        // a listed country reaches the route itself (which then judges the request)
        const fromDk = await request(srv.port, { path: '/oauth/authorize?response_type=code', headers: { 'x-forwarded-for': DK } });
        assert.notEqual(fromDk.status, 403);
    });

    test('open routes still work from everywhere', async () => {
        for (const ip of [US, DK, '10.1.2.3']) {
            assert.equal((await request(srv.port, { path: '/v1/datasets', headers: { 'x-forwarded-for': ip } })).status, 200);
            assert.equal((await request(srv.port, { path: '/.well-known/jwks.json', headers: { 'x-forwarded-for': ip } })).status, 200);
        }
    });

    test('a malformed list stops the server with a message naming the setting', () => {
        for (const bad of ['DNK', 'DK,,S', 'D1']) {
            const r = runCli(['serve', '--personal-countries', bad]);
            assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
            assert.match(r.stderr, /KLIMA_PERSONAL_COUNTRIES/);
        }
    });
});
