// sqlerrors.test.mjs — issue 15, must-show 3: every value is checked in C before any SQL. A fuzz of more than 5,000
// requests over every route that takes parameters (records and downloads of every dataset, metadata, usage, emission
// factors, /v1/me/*, consents, feedback, the OAuth endpoints) — with out-of-range numbers, underflowing numbers, bad
// dates, unknown and offset time zones, forged, altered and foreign cursors — must leave no ERROR line of its server in
// PostgreSQL's log and no 5xx but documented 503s. The test reads the cluster's log (tests/run passes its path in
// KLIMA_TEST_PG_LOG) for the lines of its own server: the server connects with application_name=klima_sqlerrors, which
// the cluster's log_line_prefix (%a, server/setup.sh) writes on every line. The log reader is shown to see an error: a
// query that fails on purpose under the same application name must be found.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DB_ADMIN_URL, DB_URL, ROOT, assertCleanExit, conninfoWith, psql, request, rng, runCli, sleep, startServer } from './harness.mjs';

const APP = 'klima_sqlerrors';
const PG_LOG = process.env.KLIMA_TEST_PG_LOG || path.join(ROOT, '.data/pg/server.log');

// The ERROR (and worse) lines of our application name written after byte offset `from` of the log.
function errorLines(from) {
    const fd = fs.openSync(PG_LOG, 'r');
    try {
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.max(0, size - from));
        fs.readSync(fd, buf, 0, buf.length, from);
        return buf
            .toString('utf8')
            .split('\n')
            .filter((l) => l.includes(`${APP}@`) && /\b(ERROR|FATAL|PANIC):/.test(l));
    } finally {
        fs.closeSync(fd);
    }
}

const NUMBERS = ['99999999999', '2147483648', '-2147483649', '9223372036854775808', '-9223372036854775809', '1e-400', '-1e-400',
    '1e400', '4.9e-324', '1e308', '1.7976931348623157e309', '0x10', '1e', '.', '-', '+1', '007', '1.5', '-0', '0', '3', 'NaN', 'Infinity',
    '-inf', ' 1', '1 ', '١'];
const DATES = ['2025-01-01', '2025-02-29', '2024-02-29', '0000-01-01', '0001-01-01', '9999-12-31', '10000-01-01', '2025-13-01',
    '2025-01-32', '2025-1-1', '2025-01-01T00:00Z', '2025-01-01T24:00Z', '2025-01-01T23:59:60Z', '9999-12-31T23:59:59+14:00',
    '0001-01-01T00:00-14:00', '2025-06-01T12:00+15:00', '2025-06-01T12:00', '2025-06-01 12:00:00+01:00', '2025-06-01T12:00:00.1234567Z',
    'today', 'epoch', 'infinity', '-infinity', 'allballs'];
const ZONES = ['UTC', 'Europe/Copenhagen', 'Foo/Bar', 'Mars/Olympus', '+01', '-14', 'UTC+1', 'Etc/GMT-1', 'europe/copenhagen', 'CET',
    'EST5EDT', 'posix/Europe/Copenhagen', 'America/Argentina/Buenos_Aires', '../../etc/passwd', 'Europe/Copenhagen ', '', 'x'.repeat(70)];
const OPS = ['', 'eq:', 'ne:', 'lt:', 'lte:', 'gt:', 'gte:', 'in:', 'between:'];
const COLUMNS = ['district_id', 'district', 'day', 'hour_utc', 'hour_dk', 'month', 'month_start_utc', 'day_start_utc', 'fraction', 'mode',
    'category', 'electricity_kwh', 'electricity_wh', 'heat_kwh', 'water_l', 'n_households', 'hours', 'value', 'valid_from', 'valid_to',
    'is_assumption', 'suppressed', 'co2e_kg', 'km', 'trips', 'kg', 'g_per_kwh', 'area', 'factor_id', 'unit', 'dwelling_type'];
const DATASETS = ['energy-district-daily', 'energy-district-hourly', 'energy-peergroup-monthly', 'footprint-district-monthly',
    'grid-intensity-hourly', 'mobility-district-monthly', 'waste-district-monthly', 'emission-factors'];

describe('every value is checked in C before any SQL: no input reaches PostgreSQL as an error', () => {
    let srv, keysDir, token, thirdParty, consentId, logFrom, cursors;
    const stats = {};

    before(async () => {
        keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        const env = { KLIMA_KEYS_DIR: keysDir, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'SQL errors test', '--first-party', '--redirect-uri', 'http://localhost:9/cb'], { env });
        assert.equal(c.status, 0, c.stderr);
        thirdParty = /client_id\s+(\S+)/.exec(c.stdout)[1];
        const household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1');
        const t = runCli(['token', '--household', household, '--client', thirdParty, '--scope',
            'summary:read energy:read waste:read mobility:read export:read consents:manage'], { env });
        assert.equal(t.status, 0, t.stderr);
        token = t.stdout.trim().split('\n').pop().trim();
        consentId = /consent (\S+)/.exec(t.stderr)?.[1];
        assert.ok(fs.existsSync(PG_LOG), `the cluster's log ${PG_LOG} exists (KLIMA_TEST_PG_LOG)`);
        // a cluster started before server/setup.sh set log_line_prefix gets it now (a reload suffices)
        if (!psql(DB_ADMIN_URL, 'SHOW log_line_prefix').includes('%a')) {
            psql(DB_ADMIN_URL, "ALTER SYSTEM SET log_line_prefix = '%m [%p] %q%a@%d '");
            psql(DB_ADMIN_URL, 'SELECT pg_reload_conf()');
            await sleep(500);
        }
        logFrom = fs.statSync(PG_LOG).size;
        srv = await startServer({
            dbUrl: conninfoWith(DB_URL, { application_name: APP }),
            env: { KLIMA_KEYS_DIR: keysDir, KLIMA_DEV_LOGIN: '1', KLIMA_RATE_LIMIT: '0', KLIMA_LOG_LEVEL: 'warn' },
        });
        // the time zone names are loaded a moment after the catalog: until then /v1/me answers other zones with 503
        for (let i = 0; i < 100; ++i) {
            const r = await request(srv.port, { path: '/v1/me/energy?from=2025-01-01&to=2025-01-02&tz=Etc/GMT-1', headers: { authorization: `Bearer ${token}` } });
            if (r.status !== 503) break;
            await sleep(100);
        }
        // real cursors to alter and to use on another query
        cursors = [];
        for (const q of ['/v1/datasets/energy-district-daily/records?limit=2', '/v1/datasets/energy-district-hourly/records?limit=3&order=-hour_utc',
            '/v1/datasets/waste-district-monthly/records?group_by=month,district&measures=sum:kg&bucket=month&limit=1',
            '/v1/datasets/energy-district-hourly/records?group_by=hour_utc&measures=count&bucket=day&tz=UTC&limit=2']) {
            const r = await request(srv.port, { path: q });
            assert.equal(r.status, 200, `${q}: ${r.body}`);
            const next = JSON.parse(r.body).next_cursor;
            assert.ok(next, `${q} has a next page`);
            cursors.push({ q, next });
            // the server's own cursor is accepted on its own query
            const r2 = await request(srv.port, { path: `${q}&cursor=${next}` });
            assert.equal(r2.status, 200, `${q} page 2: ${r2.body}`);
        }
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        fs.rmSync(keysDir, { recursive: true, force: true });
    });

    test('forged, altered and foreign cursors are 400 naming cursor', async () => {
        const { q, next } = cursors[0];
        const [body, mac] = next.split('.');
        const json = JSON.parse(Buffer.from(body, 'base64url'));
        const forged = [
            body, // the MAC left off
            `${body}.${Buffer.alloc(16).toString('base64url')}`,
            `${Buffer.from(JSON.stringify([json[0], json[1], ['not-a-date', 'x']])).toString('base64url')}.${mac}`,
            `${next.slice(0, 5)}${next[5] === 'A' ? 'B' : 'A'}${next.slice(6)}`,
            Buffer.from(JSON.stringify([json[0], json[1], ['2025-13-45', '99999999999']])).toString('base64url'),
        ];
        for (const c of forged) {
            const r = await request(srv.port, { path: `${q}&cursor=${c}` });
            assert.equal(r.status, 400, `${c}: ${r.status} ${r.body}`);
            assert.equal(JSON.parse(r.body).parameter ?? JSON.parse(r.body)['invalid-params']?.[0]?.name ?? 'cursor', 'cursor', r.body);
            assert.match(r.body, /cursor/);
        }
        // a cursor of one query on another
        const foreign = await request(srv.port, { path: `${cursors[1].q}&cursor=${cursors[0].next}` });
        assert.equal(foreign.status, 400, foreign.body);
    });

    test('time zones: IANA names the database knows; an offset is refused with its own hint', async () => {
        const ok = await request(srv.port, { path: '/v1/datasets/energy-district-hourly/records?group_by=hour_utc&measures=count&bucket=day&tz=America/Argentina/Buenos_Aires&limit=1' });
        assert.equal(ok.status, 200, ok.body);
        for (const tz of ['Foo/Bar', '+01', 'europe/copenhagen']) {
            const r = await request(srv.port, { path: `/v1/datasets/energy-district-hourly/records?group_by=hour_utc&measures=count&bucket=day&tz=${encodeURIComponent(tz)}` });
            assert.equal(r.status, 400, `${tz}: ${r.body}`);
            assert.match(r.body, /tz/);
            if (tz === '+01') assert.match(r.body, /offsets such as \+01 are not accepted/);
            const me = await request(srv.port, { path: `/v1/me/energy?from=2025-01-01&to=2025-01-02&tz=${encodeURIComponent(tz)}`, headers: { authorization: `Bearer ${token}` } });
            assert.equal(me.status, 400, `me tz ${tz}: ${me.body}`);
            // where no bucket uses it, the same 400 (a value is refused or taken, never ignored)
            for (const p of ['energy-district-daily/records?limit=1', 'energy-district-hourly/records?limit=1',
                'waste-district-monthly/records?limit=1&format=csv']) {
                const u = await request(srv.port, { path: `/v1/datasets/${p}&tz=${encodeURIComponent(tz)}` });
                assert.equal(u.status, 400, `${p} tz ${tz}: ${u.body}`);
                const body = JSON.parse(u.body);
                assert.equal(body.type, JSON.parse(r.body).type, `${p} tz ${tz}: ${u.body}`);
                assert.equal(body.parameter ?? body['invalid-params']?.[0]?.name, 'tz', u.body);
                assert.equal(body.detail, JSON.parse(r.body).detail, `${p}: the same words as with a bucket`);
            }
            // downloads take no tz at all
            const d = await request(srv.port, { path: `/v1/datasets/energy-district-daily/download?tz=${encodeURIComponent(tz)}` });
            assert.equal(d.status, 400, `download tz ${tz}: ${d.body}`);
            assert.match(d.body, /"tz"/);
        }
        // a known zone where no bucket uses it is taken; on a download it is refused all the same
        const known = await request(srv.port, { path: '/v1/datasets/energy-district-daily/records?limit=1&tz=America/New_York' });
        assert.equal(known.status, 200, known.body);
        const dl = await request(srv.port, { path: '/v1/datasets/energy-district-daily/download?tz=UTC' });
        assert.equal(dl.status, 400, dl.body);
        assert.match(dl.body, /Downloads hold the dataset's own rows/);
    });

    test('downloads answer the values records refuse with the same 400', async () => {
        for (const p of ['energy-district-daily/download?district_id=99999999999', 'emission-factors/download?value=eq:1e-400',
            'energy-district-daily/records?district_id=99999999999', 'emission-factors/records?value=eq:1e-400']) {
            const r = await request(srv.port, { path: `/v1/datasets/${p}` });
            assert.equal(r.status, 400, `${p}: ${r.status} ${r.body}`);
        }
    });

    test('/v1/me ranges are checked in C', async () => {
        const auth = { authorization: `Bearer ${token}` };
        const cases = [
            ['/v1/me/energy?from=2025-01-02&to=2025-01-01', 'to'],
            ['/v1/me/energy?from=2025-01-01&to=2027-01-02', 'to'],
            ['/v1/me/energy?from=2025-01-01&to=2025-01-02&resolution=week', 'resolution'],
            ['/v1/me/waste?from=2025-01-01&to=2025-01-02&resolution=hour', 'resolution'],
            ['/v1/me/summary?month=2025-13', 'month'],
        ];
        for (const [p, name] of cases) {
            const r = await request(srv.port, { path: p, headers: auth });
            assert.equal(r.status, 400, `${p}: ${r.body}`);
            assert.match(r.body, new RegExp(name));
        }
        const fine = await request(srv.port, { path: '/v1/me/energy?from=2025-01-01&to=2027-01-01&resolution=month', headers: auth });
        assert.equal(fine.status, 200, fine.body);
    });

    test('5,000+ fuzzed requests over every route with parameters: no 5xx but 503, no ERROR line in PostgreSQL\'s log', async () => {
        const r = rng(20261206);
        const pick = (a) => a[Math.floor(r() * a.length)];
        const value = () => {
            switch (Math.floor(r() * 6)) {
                case 0: return pick(NUMBERS);
                case 1: return pick(DATES);
                case 2: return pick(ZONES);
                case 3: return `${pick(OPS)}${pick([...NUMBERS, ...DATES])}`;
                case 4: return `${pick(['in:', 'between:'])}${pick([...NUMBERS, ...DATES])},${pick([...NUMBERS, ...DATES])}`;
                default: return pick(['', 'x', 'Nørrebro', 'residual', 'bike', '%00', '%C3%28', "'", '\\', '"', 'true', 't', 'null', 'day', 'month']);
            }
        };
        const cursor = () => {
            const c = pick(cursors);
            const [body, mac = ''] = c.next.split('.');
            const json = JSON.parse(Buffer.from(body, 'base64url'));
            switch (Math.floor(r() * 4)) {
                case 0: return c.next;
                case 1: return `${Buffer.from(JSON.stringify([json[0], json[1], json[2].map(() => value())])).toString('base64url')}.${mac}`;
                case 2: return Buffer.from(JSON.stringify([json[0], json[1], json[2].map(() => value())])).toString('base64url');
                default: return `${body}.${mac.split('').reverse().join('')}`;
            }
        };
        const recordsParams = () => {
            const parts = [];
            for (let k = Math.floor(r() * 5); k > 0; --k) {
                const name = pick([...COLUMNS, ...COLUMNS, 'tz', 'bucket', 'group_by', 'measures', 'order', 'limit', 'cursor', 'format']);
                let v;
                if (name === 'tz') v = pick(ZONES);
                else if (name === 'cursor') v = cursor();
                else if (name === 'group_by') v = pick(COLUMNS);
                else if (name === 'measures') v = `${pick(['sum:', 'avg:', 'min:', 'max:'])}${pick(COLUMNS)},count`;
                else if (name === 'bucket') v = pick(['day', 'week', 'month', 'year', 'hour']);
                else if (name === 'order') v = `${pick(['', '-'])}${pick(COLUMNS)}`;
                else if (name === 'limit') v = pick(NUMBERS);
                else if (name === 'format') v = pick(['json', 'csv', 'ndjson', 'geojson', 'xlsx']);
                else v = value();
                parts.push(`${name}=${encodeURIComponent(v).replace(/%25/g, '%')}`);
            }
            return parts.join('&');
        };
        const q = (o) => Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const auth = { authorization: `Bearer ${token}` };
        const form = { 'content-type': 'application/x-www-form-urlencoded' };
        const gen = [
            () => ({ path: `/v1/datasets/${pick(DATASETS)}/records?${recordsParams()}` }),
            () => ({ path: `/v1/datasets/${pick(DATASETS)}/records?${recordsParams()}` }),
            () => ({ path: `/v1/datasets/${pick(DATASETS)}/records?${recordsParams()}` }),
            () => ({ path: `/v1/datasets/${pick(DATASETS)}/download?${recordsParams()}`, head: true }),
            () => ({ path: `/v1/datasets/${pick(DATASETS)}/download?${recordsParams()}`, head: true }),
            () => ({ path: `/v1/datasets/${pick([...DATASETS, 'no-such', '%00', 'x'.repeat(80)])}?lang=${pick(['da', 'en', 'xx'])}` }),
            () => ({ path: `/v1/datasets?lang=${pick(['da', 'en', 'xx', ''])}` }),
            () => ({ path: `/v1/datasets/${pick(DATASETS)}/datapackage.json` }),
            () => ({ path: `/v1/usage?${q({ from: pick(DATES), to: pick(DATES), dataset: pick([...DATASETS, 'x', "'"]) })}` }),
            () => ({ path: `/v1/emission-factors?lang=${pick(['da', 'en', 'de'])}` }),
            () => ({ path: `/v1/feedback/stats` }),
            () => ({ path: `/v1/me/summary?${q({ month: pick(['2025-01', '2025-13', '0000-01', '9999-12', '2025-1', pick(DATES)]), lang: pick(['da', 'en', undefined]) })}`, headers: auth }),
            ...['energy', 'waste', 'mobility'].map((kind) => () => ({
                path: `/v1/me/${kind}?${q({ from: pick(DATES), to: pick(DATES), resolution: pick(['hour', 'day', 'month', 'week', undefined]), tz: r() < 0.5 ? pick(ZONES) : undefined, format: pick(['json', 'csv', undefined]) })}`,
                headers: auth,
            })),
            () => ({ path: '/v1/me/consents', headers: auth }),
            () => ({ method: 'DELETE', path: `/v1/me/consents/${pick(['00000000-0000-0000-0000-000000000000', 'x', '99999999-9999-9999-9999-99999999999g', '%27'])}`, headers: auth }),
            () => ({
                method: 'POST', path: '/v1/feedback', headers: { 'content-type': 'application/json', ...(r() < 0.3 ? auth : {}) },
                body: JSON.stringify({ topic: pick(['dataset', 'dashboard', 'data-error', 'idea', 'x']), dataset: pick([...DATASETS, 'x', null]), rating: pick([1, 5, 0, 6, 2147483648, 1.5, null, '3']), message: pick(['hej', '', null, 'x'.repeat(2100), '\u0000']) }),
            }),
            () => ({ path: `/oauth/authorize?${q({ response_type: 'code', client_id: pick([thirdParty, 'x', '']), redirect_uri: pick(['http://localhost:9/cb', 'http://evil/']), scope: pick(['summary:read', 'x', '']), state: 's', code_challenge: pick(['x', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM']), code_challenge_method: 'S256' })}` }),
            () => ({ method: 'POST', path: '/oauth/token', headers: form, body: q({ grant_type: pick(['authorization_code', 'refresh_token', 'x']), code: pick(['x', 'A'.repeat(43)]), refresh_token: pick(['x', 'A'.repeat(43)]), client_id: pick([thirdParty, 'x']), code_verifier: pick(['x', 'A'.repeat(43)]), redirect_uri: 'http://localhost:9/cb' }) }),
            // (not the test's own token: revoking its consent midway would make the personal functions refuse it with
            // SQLSTATE 28000 — the database's own consent check, by design, not a value the server failed to check)
            () => ({ method: 'POST', path: '/oauth/revoke', headers: form, body: q({ token: pick(['x', 'A'.repeat(43), `${token}x`]), client_id: pick([thirdParty, 'x']) }) }),
            () => ({ method: 'POST', path: '/oauth/consent', headers: form, body: q({ client_id: thirdParty, redirect_uri: 'http://localhost:9/cb', csrf: 'x', decision: 'approve', days: pick(NUMBERS) }) }),
            () => ({ method: 'POST', path: '/oauth/login', headers: form, body: q({ household: pick(['x', '00000000-0000-0000-0000-000000000000']), csrf: 'x', q: 'a=b' }) }),
        ];
        const N = 5200;
        for (let i = 0; i < N; i += 25) {
            const batch = [];
            for (let j = 0; j < 25; ++j) {
                const g = pick(gen)();
                const p = g.path.replace(/[^\x21-\x7e]/gu, (ch) => encodeURIComponent(ch));
                batch.push(request(srv.port, { method: g.method ?? 'GET', path: p, headers: g.headers ?? {}, body: g.body }).then((res) => ({ p, res })));
            }
            for (const { p, res } of await Promise.all(batch)) {
                stats[res.status] = (stats[res.status] ?? 0) + 1;
                assert.ok(res.status < 500 || res.status === 503, `${p} -> ${res.status}: ${res.body.slice(0, 300)}`);
                if (res.status === 503) assert.match(String(res.headers['content-type']), /problem\+json/, p);
            }
        }
        const total = Object.values(stats).reduce((a, b) => a + b, 0);
        assert.ok(total >= 5000, `${total} requests`);
        assert.ok((stats[200] ?? 0) > 500 && (stats[400] ?? 0) > 500, JSON.stringify(stats));
        // everything the server sent PostgreSQL has been logged by now
        await sleep(500);
        const lines = errorLines(logFrom);
        assert.deepEqual(lines, [], `${lines.length} ERROR lines of the server in PostgreSQL's log:\n${lines.slice(0, 40).join('\n')}`);
        console.log(`# ${total} requests, statuses ${JSON.stringify(stats)}, 0 ERROR lines`);
    });

    test('the log reader sees an error of our application name (the check can fail)', () => {
        const from = fs.statSync(PG_LOG).size;
        assert.throws(() => psql(conninfoWith(DB_URL, { application_name: APP }), "SELECT 'x'::date"));
        let lines = [];
        for (let i = 0; i < 50 && lines.length === 0; ++i) {
            lines = errorLines(from);
            if (lines.length === 0) spawnSleep(20);
        }
        assert.equal(lines.length, 1, 'one ERROR line');
        assert.match(lines[0], /invalid input syntax for type date/);
    });
});

function spawnSleep(ms) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
