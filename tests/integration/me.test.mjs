// me.test.mjs — the citizen routes (/v1/me/summary, energy, waste, mobility, export) against a real server, with
// tokens minted by `klimaspejl token`: figures equal independent SQL on core, rating/tips/KP2035 present in both
// languages, a month without data is 404, parameter errors are 400 naming the parameter, scopes are enforced, DST days
// have 23/25 hours, and the export round-trips the household's rows.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, psql, request, runCli, sleep, startServer, waitReady } from './harness.mjs';

const ALL = 'summary:read energy:read waste:read mobility:read export:read';

function mint(env, household, client, scope) {
    const r = runCli(['token', '--household', household, '--scope', scope, '--client', client], { env });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    return lines[lines.length - 1].trim();
}

function get(port, p, token) {
    return request(port, { path: p, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

function problem(res, status, parameter) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.body}`);
    const p = JSON.parse(res.body);
    assert.equal(p.status, status);
    if (parameter !== undefined) assert.equal(p.parameter, parameter, res.body);
}

describe('citizen routes', () => {
    let srv;
    let env;
    let keys;
    let client;
    let household;
    let token;
    let month;

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Me test', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
        assert.equal(c.status, 0, c.stderr);
        client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        // a household with energy data in the newest whole month
        month = psql(DB_ADMIN_URL, "SELECT to_char(date_trunc('month', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '1 month', 'YYYY-MM') FROM core.energy_hourly").trim();
        household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1').trim();
        token = mint(env, household, client, ALL);
        srv = await startServer({ env: { KLIMA_KEYS_DIR: keys } });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test('summary: figures equal independent SQL on core; rating, KP2035 and 3 ranked tips in both languages', async () => {
        const en = await get(srv.port, `/v1/me/summary?month=${month}&lang=en`, token);
        assert.equal(en.status, 200, en.body);
        assert.match(String(en.headers['cache-control']), /no-store/);
        const s = JSON.parse(en.body);
        const [kwh, heat, hours] = psql(DB_ADMIN_URL, `
            SELECT round(sum(electricity_wh) / 1000.0, 3), round(sum(heat_wh) / 1000.0, 3), count(*)
            FROM core.energy_hourly
            WHERE household_id = '${household}'
              AND hour_utc >= ('${month}-01'::date::timestamp AT TIME ZONE 'Europe/Copenhagen')
              AND hour_utc < (('${month}-01'::date + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')`).trim().split('|');
        assert.equal(s.categories.electricity.kwh, Number(kwh));
        assert.equal(s.categories.district_heating.kwh, Number(heat));
        assert.equal(s.period.hours_with_data, Number(hours));
        const co2 = Number(psql(DB_ADMIN_URL, `
            SELECT round(sum(e.electricity_wh / 1000.0 * g.g_per_kwh / 1000.0)::numeric, 3)
            FROM core.energy_hourly e JOIN core.grid_intensity_hourly g USING (hour_utc)
            WHERE e.household_id = '${household}'
              AND e.hour_utc >= ('${month}-01'::date::timestamp AT TIME ZONE 'Europe/Copenhagen')
              AND e.hour_utc < (('${month}-01'::date + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')`).trim());
        assert.ok(Math.abs(s.categories.electricity.co2e_kg - co2) <= 0.002, `hour-weighted CO2e ${s.categories.electricity.co2e_kg} vs ${co2}`);
        assert.ok(['great', 'good', 'more'].includes(s.peers.rating));
        assert.equal(typeof s.peers.rating_text, 'string');
        assert.ok(s.tips.length >= 1 && s.tips.length <= 3);
        for (let i = 1; i < s.tips.length; ++i) assert.ok(s.tips[i - 1].saving_co2e_kg_per_month >= s.tips[i].saving_co2e_kg_per_month, 'tips ranked by saving');
        assert.equal(s.kp2035.target_2035_t_per_person_year, 5);
        assert.equal(s.lang, 'en');
        const da = JSON.parse((await get(srv.port, `/v1/me/summary?month=${month}&lang=da`, token)).body);
        assert.equal(da.lang, 'da');
        assert.notEqual(da.peers.rating_text, s.peers.rating_text);
        assert.notEqual(da.tips[0].text, s.tips[0].text);
        const byHeader = await request(srv.port, { path: `/v1/me/summary?month=${month}`, headers: { authorization: `Bearer ${token}`, 'accept-language': 'da-DK,da;q=0.9' } });
        assert.equal(JSON.parse(byHeader.body).lang, 'da');
    });

    test('summary: a month without data is 404 (not zeros); bad month and lang are 400', async () => {
        problem(await get(srv.port, '/v1/me/summary?month=1999-01', token), 404, 'month');
        problem(await get(srv.port, '/v1/me/summary?month=2025-13', token), 400, 'month');
        problem(await get(srv.port, '/v1/me/summary?month=march', token), 400, 'month');
        problem(await get(srv.port, `/v1/me/summary?month=${month}&lang=fr`, token), 400, 'lang');
        problem(await get(srv.port, `/v1/me/summary?month=${month}&extra=1`, token), 400, 'extra');
    });

    test('tokens and scopes are enforced', async () => {
        const none = await get(srv.port, `/v1/me/summary?month=${month}`);
        problem(none, 401);
        assert.match(String(none.headers['www-authenticate']), /^Bearer/);
        problem(await get(srv.port, `/v1/me/summary?month=${month}`, `${token}x`), 401);
        const narrow = mint(env, household, client, 'energy:read');
        const r = await get(srv.port, `/v1/me/summary?month=${month}`, narrow);
        problem(r, 403);
        assert.match(String(r.headers['www-authenticate']), /insufficient_scope/);
        problem(await get(srv.port, '/v1/me/export', narrow), 403);
    });

    test('time series: sums equal core; DST days have 23 and 25 hours; errors name the parameter', async () => {
        const r = await get(srv.port, `/v1/me/energy?from=${month}-01&to=${month}-08&resolution=day`, token);
        assert.equal(r.status, 200, r.body);
        const body = JSON.parse(r.body);
        assert.equal(body.rows.length, 7);
        const sum = body.rows.reduce((a, x) => a + x.electricity_wh, 0);
        const expect = Number(psql(DB_ADMIN_URL, `
            SELECT sum(electricity_wh) FROM core.energy_hourly WHERE household_id = '${household}'
              AND hour_utc >= ('${month}-01'::timestamp AT TIME ZONE 'Europe/Copenhagen')
              AND hour_utc < ('${month}-08'::timestamp AT TIME ZONE 'Europe/Copenhagen')`).trim());
        assert.equal(sum, expect);
        // the DST days inside the seeded range (last Sundays of March and October), if any
        const dst = psql(DB_ADMIN_URL, `
            SELECT d::date FROM generate_series((SELECT min(hour_utc) FROM core.energy_hourly)::date + 1,
                                                (SELECT max(hour_utc) FROM core.energy_hourly)::date - 1, interval '1 day') d
            WHERE extract(month FROM d) IN (3, 10) AND extract(dow FROM d) = 0 AND extract(day FROM d) > 24`).trim().split('\n').filter(Boolean);
        for (const day of dst) {
            const next = new Date(Date.parse(`${day}T12:00:00Z`) + 86400000).toISOString().slice(0, 10);
            const d = JSON.parse((await get(srv.port, `/v1/me/energy?from=${day}&to=${next}&resolution=day`, token)).body);
            assert.equal(d.rows.length, 1);
            assert.equal(d.rows[0].hours, day.slice(5, 7) === '03' ? 23 : 25, `hours on ${day}`);
        }
        const csv = await get(srv.port, `/v1/me/waste?from=${month}-01&to=${month}-28&format=csv`, token);
        assert.equal(csv.status, 200);
        assert.match(csv.body.split('\r\n')[0], /fraction/);
        problem(await get(srv.port, '/v1/me/energy?to=2025-01-01', token), 400, 'from');
        problem(await get(srv.port, '/v1/me/energy?from=2025-02-01&to=2025-01-01', token), 400, 'to');
        problem(await get(srv.port, '/v1/me/energy?from=2021-01-01&to=2025-01-01', token), 400, 'to');
        problem(await get(srv.port, '/v1/me/energy?from=2025-01-01&to=2025-01-02&resolution=week', token), 400, 'resolution');
        problem(await get(srv.port, '/v1/me/energy?from=2025-01-01&to=2025-01-02&tz=Mars/Olympus', token), 400, 'tz');
        problem(await get(srv.port, '/v1/me/mobility?from=2025-02-30&to=2025-03-02', token), 400, 'from');
    });

    test('export streams every row of the household and nothing of another', async () => {
        const r = await get(srv.port, '/v1/me/export', token);
        assert.equal(r.status, 200);
        assert.match(String(r.headers['content-disposition']), /attachment/);
        const lines = r.body.trim().split('\n').map((l) => JSON.parse(l));
        const counts = {};
        for (const l of lines) counts[l.kind] = (counts[l.kind] ?? 0) + 1;
        const [e, w, m] = psql(DB_ADMIN_URL, `
            SELECT (SELECT count(*) FROM core.energy_hourly WHERE household_id = '${household}'),
                   (SELECT count(*) FROM core.waste_weighings WHERE household_id = '${household}'),
                   (SELECT count(*) FROM core.mobility_daily WHERE household_id = '${household}')`).trim().split('|').map(Number);
        assert.equal(counts.household, 1);
        assert.equal(counts.energy, e);
        assert.equal(counts.waste ?? 0, w);
        assert.equal(counts.mobility ?? 0, m);
        assert.ok(lines.every((l) => l.kind !== 'household' || l.record.household_id === household));
    });
});
