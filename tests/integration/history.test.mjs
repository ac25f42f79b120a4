// history.test.mjs — GET /v1/me/history (issue 17) against a real server: every month agrees with that month's
// /v1/me/summary (the household's figures and its comparison group's median), energy hours and partial months agree
// with core, months without data keep the time axis, the default is the 12 months up to the last whole month, and bad
// parameters are 400 naming the parameter (caught in C or by the SQL function), with 401/403 for tokens.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, psql, request, runCli, startServer, waitReady } from './harness.mjs';

function mint(env, household, client, scope) {
    const r = runCli(['token', '--household', household, '--scope', scope, '--client', client], { env });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    return lines[lines.length - 1].trim();
}

const get = (port, p, token) => request(port, { path: p, headers: token ? { authorization: `Bearer ${token}` } : {} });

function problem(res, status, parameter) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.body}`);
    const p = JSON.parse(res.body);
    assert.equal(p.status, status);
    if (parameter !== undefined) assert.equal(p.parameter, parameter, res.body);
}

// YYYY-MM plus n months
function addMonths(ym, n) {
    const [y, m] = ym.split('-').map(Number);
    const i = y * 12 + m - 1 + n;
    return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
}

describe('citizen history', () => {
    let srv;
    let env;
    let keys;
    let client;
    let household;
    let token;
    let first; // the first local month with energy data
    let last; // the last whole local month with data

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'History test', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
        assert.equal(c.status, 0, c.stderr);
        client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id OFFSET 3 LIMIT 1');
        [first, last] = psql(DB_ADMIN_URL, `
            SELECT to_char(min(hour_utc) AT TIME ZONE 'Europe/Copenhagen', 'YYYY-MM'),
                   to_char(date_trunc('month', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '1 month', 'YYYY-MM')
            FROM core.energy_hourly WHERE household_id = '${household}'`).split('|');
        token = mint(env, household, client, 'summary:read');
        srv = await startServer({ env: { KLIMA_KEYS_DIR: keys } });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        runCli(['client', 'remove', client], { env });
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test('each month equals its summary; hours and partial months equal core; months before the data are empty', async () => {
        const from = addMonths(first, -1);
        const to = addMonths(from, 13);
        const res = await get(srv.port, `/v1/me/history?from=${from}&to=${to}`, token);
        assert.equal(res.status, 200, res.body);
        assert.match(String(res.headers['cache-control']), /no-store/);
        const h = JSON.parse(res.body);
        assert.equal(h.from, from);
        assert.equal(h.to, to);
        assert.equal(h.months.length, 14);
        assert.deepEqual(h.months.map((m) => m.month), Array.from({ length: 14 }, (_, i) => addMonths(from, i)));
        // independent: hours per local month from core, and each month's length in local hours
        const hours = new Map(psql(DB_ADMIN_URL, `
            SELECT to_char(hour_utc AT TIME ZONE 'Europe/Copenhagen', 'YYYY-MM'), count(*)
            FROM core.energy_hourly WHERE household_id = '${household}' GROUP BY 1`).split('\n').map((l) => {
            const [m, n] = l.split('|');
            return [m, Number(n)];
        }));
        let partial = 0;
        let compared = 0;
        for (const m of h.months) {
            const expected = Number(psql(DB_ADMIN_URL, `SELECT extract(epoch FROM (('${m.month}-01'::date + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen') - ('${m.month}-01'::date::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600`));
            assert.equal(m.hours_expected, expected, m.month);
            assert.equal(m.hours_with_data, hours.get(m.month) ?? 0, m.month);
            assert.equal(m.partial, m.has_data && (hours.get(m.month) ?? 0) < expected, m.month);
            if (m.partial) partial += 1;
            if (!m.has_data) {
                assert.equal(m.total_co2e_kg, null);
                assert.equal(m.categories, null);
                continue;
            }
            const s = JSON.parse((await get(srv.port, `/v1/me/summary?month=${m.month}&lang=en`, token)).body);
            assert.equal(m.total_co2e_kg, s.total_co2e_kg, m.month);
            for (const c of ['electricity', 'district_heating', 'water', 'waste', 'mobility']) {
                assert.equal(m.categories[c].co2e_kg, s.categories[c].co2e_kg, `${m.month} ${c}`);
                assert.equal(m.peers.categories?.[c]?.co2e_kg_median ?? null, s.peers.categories[c].co2e_kg_median ?? null, `${m.month} ${c} median`);
            }
            assert.equal(m.peers.available, s.peers.available);
            assert.equal(m.peers.n_households, s.peers.n_households);
            assert.equal(m.peers.level, s.peers.level);
            assert.equal(m.peers.total_co2e_kg_median, s.peers.total_co2e_kg.median);
            compared += 1;
        }
        assert.equal(h.months[0].has_data, false, 'the month before the data is listed, empty');
        assert.ok(compared >= 12, `compared ${compared} months`);
        assert.ok(partial >= 1, 'the first month of data starts inside it and is marked partial');
        assert.equal(h.months[1].partial, hours.get(first) < h.months[1].hours_expected);
    });

    test('default: the 12 months up to the last whole month; `to` alone gives the 12 months up to it', async () => {
        const h = JSON.parse((await get(srv.port, '/v1/me/history', token)).body);
        assert.equal(h.months.length, 12);
        const now = new Date(Date.now() - 3 * 86400_000);
        const lastWhole = addMonths(`${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`, -1);
        assert.equal(h.to, lastWhole);
        assert.equal(h.from, addMonths(lastWhole, -11));
        const t = JSON.parse((await get(srv.port, `/v1/me/history?to=${last}`, token)).body);
        assert.equal(t.from, addMonths(last, -11));
        assert.equal(t.months.at(-1).month, last);
        const one = JSON.parse((await get(srv.port, `/v1/me/history?from=${last}&to=${last}`, token)).body);
        assert.equal(one.months.length, 1);
    });

    test('bad parameters: 400 naming the parameter; tokens: 401 without, 403 without summary:read', async () => {
        problem(await get(srv.port, '/v1/me/history?from=2025-13', token), 400, 'from');
        problem(await get(srv.port, '/v1/me/history?to=2025-1', token), 400, 'to');
        problem(await get(srv.port, '/v1/me/history?from=2025-03-01', token), 400, 'from');
        problem(await get(srv.port, '/v1/me/history?from=2025-05&to=2025-04', token), 400, 'to');
        assert.equal((await get(srv.port, '/v1/me/history?from=2023-01&to=2024-12', token)).status, 200, '24 months');
        problem(await get(srv.port, '/v1/me/history?from=2023-01&to=2025-01', token), 400, 'to');
        problem(await get(srv.port, '/v1/me/history?month=2025-01', token), 400, 'month');
        problem(await get(srv.port, '/v1/me/history'), 401);
        const energyOnly = mint(env, household, client, 'energy:read');
        problem(await get(srv.port, '/v1/me/history', energyOnly), 403);
    });
});
