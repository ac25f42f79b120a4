// hostile.test.mjs — 2,000 random query strings against the open-data and personal routes never get a 5xx, and the
// usage statistics keep countries, never addresses: after requests with X-Forwarded-For addresses from a trusted proxy,
// /v1/usage shows their countries while neither a pg_dump of the database nor the server's log contains an address.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, PG_BIN, request, rng, ROOT, sleep, startServer, waitReady } from './harness.mjs';

const NAMES = ['district', 'district_id', 'day', 'hour_utc', 'hour_dk', 'month', 'fraction', 'mode', 'electricity_kwh', 'suppressed',
    'group_by', 'measures', 'order', 'limit', 'cursor', 'bucket', 'tz', 'format', 'delimiter', 'bom', 'lang', 'from', 'to',
    'resolution', 'dataset', '', 'x', '%00', '%ff', 'a%zz', 'é', '<script>'];
const VALUES = ['eq:1', 'in:1,2,3', 'between:2025-01-01,2025-02-01', 'gte:2025-01-01T00:00Z', 'lt:-1', 'ne:Nørrebro', 'eq:',
    'in:', 'between:a', 'zz:1', 'sum:electricity_kwh,count', 'avg:district', 'count', 'district,day', '-day', 'day,-district_id',
    '0', '1', '10000', '10001', '-5', '1e3', 'NaN', 'Infinity', 'csv', 'ndjson', 'geojson', 'xml', ';', 'tab', '%3B', 'UTC',
    'Europe/Copenhagen', '../../etc/passwd', 'Mars/Olympus', 'day', 'month', 'week', 'hour', 'true', 'false', '2025-13-45',
    '9999-12-31T23:59:59.999999+14:00', 'WzEsIjAxMjM0NTY3ODlhYmNkZWYiLFsiMjAyNS0wMS0wMSJdXQ', 'abc', '%E2%82%AC', '%C3%28',
    "'; DROP TABLE core.households; --", 'x'.repeat(300), '%'];

describe('hostile input and private usage statistics', () => {
    let srv;
    before(async () => {
        srv = await startServer({
            env: { KLIMA_TRUSTED_PROXIES: '127.0.0.1,::1', KLIMA_GEOIP_DB: path.join(ROOT, 'tests/fixtures/geoip/test-country.mmdb') },
        });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) {
            const result = await srv.stop();
            assertCleanExit(assert, result);
            for (const addr of ['81.0.77.66', '8.8.8.8', '2a02:c7f::1']) assert.ok(!result.output.includes(addr), `server log holds ${addr}`);
        }
    });

    test('2,000 random query strings: no 5xx, every 4xx is problem+json', async () => {
        const r = rng(20261126);
        const pick = (a) => a[Math.floor(r() * a.length)];
        const bases = ['/v1/datasets/energy-district-daily/records', '/v1/datasets/energy-district-hourly/records',
            '/v1/datasets/waste-district-monthly/records', '/v1/datasets/no-such/records', '/v1/datasets/energy-district-daily/download',
            '/v1/usage', '/v1/datasets', '/v1/datasets/mobility-district-monthly', '/v1/me/energy', '/v1/emission-factors'];
        const seen = {};
        for (let i = 0; i < 2000; i += 20) {
            const batch = [];
            for (let j = 0; j < 20; ++j) {
                const n = Math.floor(r() * 5);
                const parts = [];
                for (let k = 0; k < n; ++k) parts.push(`${pick(NAMES)}=${pick(VALUES)}`);
                // bytes outside printable ASCII are percent-encoded (Node refuses to send them raw); '%' stays as is so
                // malformed escapes reach the server
                const p = `${pick(bases)}?${parts.join('&')}`.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
                batch.push(request(srv.port, { path: p }).then((res) => ({ p, res })));
            }
            for (const { p, res } of await Promise.all(batch)) {
                seen[res.status] = (seen[res.status] ?? 0) + 1;
                assert.ok(res.status < 500, `${p} -> ${res.status}: ${res.body.slice(0, 300)}`);
                if (res.status >= 400) assert.match(String(res.headers['content-type']), /application\/problem\+json/, p);
            }
        }
        assert.ok((seen[200] ?? 0) > 50 && (seen[400] ?? 0) > 50, JSON.stringify(seen));
    });

    test('usage keeps countries, not addresses', async () => {
        const clients = [['81.0.77.66', 'DK'], ['8.8.8.8', 'US'], ['2a02:c7f::1', 'GB']];
        for (const [addr] of clients) {
            const h = { 'x-forwarded-for': `203.0.113.9, ${addr}` };
            assert.equal((await request(srv.port, { path: '/v1/datasets/waste-district-monthly/records?limit=1', headers: h })).status, 200);
            assert.equal((await request(srv.port, { path: '/v1/datasets/emission-factors/download', headers: h })).status, 200);
        }
        let rows = [];
        for (let i = 0; i < 40; ++i) {
            await sleep(500);
            const u = await request(srv.port, { path: '/v1/usage' });
            assert.equal(u.status, 200);
            rows = JSON.parse(u.body);
            if (clients.every(([, c]) => rows.some((x) => x.country === c && x.downloads > 0))) break;
        }
        for (const [, c] of clients) {
            assert.ok(rows.some((x) => x.country === c && x.dataset === 'waste-district-monthly' && x.queries > 0), `${c} query: ${JSON.stringify(rows)}`);
            assert.ok(rows.some((x) => x.country === c && x.dataset === 'emission-factors' && x.downloads > 0), `${c} download`);
        }
        const dump = spawnSync(path.join(PG_BIN, 'pg_dump'), ['-d', DB_ADMIN_URL, '--data-only'], { encoding: 'utf8', maxBuffer: 1 << 30 });
        assert.equal(dump.status, 0, dump.stderr);
        for (const [addr] of clients) assert.ok(!dump.stdout.includes(addr), `pg_dump holds ${addr}`);
        assert.ok(!dump.stdout.includes('203.0.113.9'), 'pg_dump holds the spoofed hop');
    });
});
