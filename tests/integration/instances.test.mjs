// instances.test.mjs — two server instances on one database (as behind a load balancer): a consent revoked through
// instance A (DELETE /v1/me/consents/{id}, or POST /oauth/revoke) is refused by instance B within 1 s, although B had
// verified and cached the token just before. The revocation travels as NOTIFY klima_consent_revoked through PostgreSQL;
// the instances share nothing else.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, psql, request, runCli, sleep, startServer } from './harness.mjs';

const ISSUER = 'http://klimaspejl.test';

function bearer(port, token, p = '/v1/me/consents', method = 'GET') {
    return request(port, { path: p, method, headers: { authorization: `Bearer ${token}` } });
}

// Polls instance `port` on several connections (so both worker threads answer) until every one refuses the token with
// 401 invalid_token; returns the milliseconds it took, or fails after `within`.
async function refusedWithin(port, token, within = 1000) {
    const t0 = Date.now();
    for (;;) {
        const rs = await Promise.all(Array.from({ length: 6 }, () => bearer(port, token)));
        if (rs.every((r) => r.status === 401)) {
            for (const r of rs) assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
            return Date.now() - t0;
        }
        for (const r of rs) assert.ok(r.status === 200 || r.status === 401, `${r.status} ${r.body}`);
        if (Date.now() - t0 > within) assert.fail(`instance B still accepts the token after ${within} ms`);
        await sleep(20);
    }
}

describe('two instances on one database', () => {
    let a, b, keys, env, client, household;

    // Mints a consent and its token with `klimaspejl token`; returns { token, cid }.
    function mint(scope) {
        const r = runCli(['token', '--household', household, '--scope', scope, '--client', client], { env });
        assert.equal(r.status, 0, r.stderr);
        const lines = r.stdout.trim().split('\n');
        return { token: lines[lines.length - 1].trim(), cid: /consent (\S+)/.exec(r.stderr)[1] };
    }

    // Both workers of an instance have the token verified and cached (many requests over fresh connections).
    async function cachedOn(port, token) {
        for (let i = 0; i < 8; ++i) assert.equal((await bearer(port, token)).status, 200);
    }

    async function ready(srv) {
        for (const t0 = Date.now(); !srv.output().includes('listening for database notifications'); await sleep(50)) {
            assert.ok(Date.now() - t0 < 20_000, `the notification listener did not connect:\n${srv.output()}`);
        }
    }

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL, KLIMA_ISSUER: ISSUER };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Two instances', '--first-party', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
        assert.equal(c.status, 0, c.stderr);
        client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id DESC LIMIT 1');
        const serverEnv = { KLIMA_KEYS_DIR: keys, KLIMA_ISSUER: ISSUER, KLIMA_LOG_LEVEL: 'info' };
        [a, b] = await Promise.all([startServer({ env: serverEnv }), startServer({ env: serverEnv })]);
        await Promise.all([ready(a), ready(b)]);
    });
    after(async () => {
        for (const s of [a, b]) if (s && s.exited() === null) await s.stop();
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test('DELETE /v1/me/consents/{id} on A: B refuses the cached token within 1 s', async () => {
        const { token, cid } = mint('consents:manage summary:read');
        await cachedOn(b.port, token);
        await cachedOn(a.port, token);
        const r = await bearer(a.port, token, `/v1/me/consents/${cid}`, 'DELETE');
        assert.equal(r.status, 204, r.body);
        const ms = await refusedWithin(b.port, token);
        process.stderr.write(`# DELETE on A -> refused by B after ${ms} ms\n`);
    });

    test('POST /oauth/revoke (RFC 7009) on A: B refuses the cached token within 1 s', async () => {
        const { token } = mint('consents:manage');
        await cachedOn(b.port, token);
        const r = await request(a.port, {
            method: 'POST',
            path: '/oauth/revoke',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token, client_id: client }).toString(),
        });
        assert.equal(r.status, 200, r.body);
        const ms = await refusedWithin(b.port, token);
        process.stderr.write(`# /oauth/revoke on A -> refused by B after ${ms} ms\n`);
        assert.equal((await bearer(a.port, token)).status, 401, 'A refuses it as well');
    });

    test('a token of another consent is still accepted by both', async () => {
        const { token } = mint('consents:manage');
        assert.equal((await bearer(a.port, token)).status, 200);
        assert.equal((await bearer(b.port, token)).status, 200);
    });

    test('SIGTERM: both instances exit 0, no sanitizer report', async () => {
        assertCleanExit(assert, await a.stop());
        assertCleanExit(assert, await b.stop());
    });
});
