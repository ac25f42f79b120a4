// geoip-package.test.mjs — the country database server/run installs (issue 18): the same step server/run takes
// (`klima_geoip_env` of server/setup.sh: the pinned @ip-location-db package from npm into a fresh directory, exported as
// KLIMA_GEOIP_DB) gives a server whose /v1/usage reports a real country on first start, for an address from the package's
// own ranges (130.225.0.1: DeiC, the Danish research network, DK in the package). The same requests to a server without
// the step report ZZ, so the check can fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { assertCleanExit, createDatabase, request, ROOT, runCli, sleep, startServer, waitReady } from './harness.mjs';

const ADDRESS = '130.225.0.1';
const COUNTRY = 'DK';

// Queries a dataset as ADDRESS (behind the trusted proxy 127.0.0.1) and returns the country /v1/usage files it under.
// Each server gets a fresh, migrated and released database of its own, so no other test's requests are in its usage.
async function countryOf(env) {
    const db = createDatabase('geoip');
    let srv;
    try {
        for (const step of [['migrate'], ['refresh']]) {
            const r = runCli(step, { env: { KLIMA_DB_ADMIN_URL: db.adminUrl, KLIMA_DB_URL: db.adminUrl }, timeout: 300_000 });
            assert.equal(r.status, 0, r.stderr);
        }
        srv = await startServer({ dbUrl: db.apiUrl, env: { KLIMA_TRUSTED_PROXIES: '127.0.0.1,::1', ...env } });
        await waitReady(srv.port);
        const q = await request(srv.port, { path: '/v1/datasets/emission-factors/records?limit=1&format=ndjson', headers: { 'x-forwarded-for': ADDRESS } });
        assert.equal(q.status, 200, q.body);
        for (let i = 0; i < 40; ++i) {
            await sleep(500);
            const rows = JSON.parse((await request(srv.port, { path: '/v1/usage' })).body);
            const mine = rows.filter((r) => r.dataset === 'emission-factors' && r.format === 'ndjson' && r.queries > 0);
            if (mine.length > 0) return mine.map((r) => r.country);
        }
        return [];
    } finally {
        if (srv) assertCleanExit(assert, await srv.stop());
        db.drop();
    }
}

describe('the country database of server/run', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-geoip-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('server/run\'s step installs the npm package and a fresh server reports a non-ZZ country', async () => {
        const env = { ...process.env };
        delete env.KLIMA_GEOIP_DB;
        const r = spawnSync('bash', ['-c', 'source server/setup.sh && klima_geoip_env "$1" && printf %s "${KLIMA_GEOIP_DB:-}"', '_', dir],
            { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
        assert.equal(r.status, 0, r.stderr);
        const db = r.stdout.trim();
        assert.equal(path.dirname(db), dir, `KLIMA_GEOIP_DB=${db}`);
        assert.ok(fs.statSync(db).size > 1_000_000, 'a real database, not the test fixture');
        assert.match(fs.readFileSync(path.join(dir, 'NRO_LICENSE'), 'utf8'), /Creative Commons Attribution 4\.0/, 'the licence travels with it');
        const countries = await countryOf({ KLIMA_GEOIP_DB: db });
        assert.ok(countries.length > 0, 'the query was counted');
        assert.ok(countries.every((c) => c === COUNTRY), `${ADDRESS} counted as ${countries}`);
    });

    test('without the database the same request counts as ZZ (the check can fail)', async () => {
        const countries = await countryOf({ KLIMA_GEOIP_DB: '' });
        assert.deepEqual(countries, ['ZZ']);
    });
});
