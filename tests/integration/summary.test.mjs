// summary.test.mjs — GET /v1/me/summary over HTTP for 20 sampled households and three months, every figure compared
// with SQL written here from the core tables only (hourly readings, grid intensity, emission factors, household
// attributes; no api function, no rollup): consumption, hour-weighted CO2e, dirty-hours use, peer group (level, size,
// median, 20th percentile, percentile rank), rating, per person, KP2035 estimate, year-on-year change (last year's month
// counts only when >= 90 % of its hours have data), hours (DST months 743/745) and the three tips (each saving
// recomputed, ranked). Then, in a fresh 3,000-household city, the peer group widens 0 -> 1 -> 2 -> 3 exactly when a
// group has fewer than 100 homes; and the rating texts praise low users in both languages.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as jose from 'jose';

import { assertCleanExit, createDatabase, DB_ADMIN_URL, psql, request, ROOT, runCli, startServer, waitReady } from './harness.mjs';

const TZ = 'Europe/Copenhagen';
const SAMPLE = 20;

// ---------------------------------------------------------------------------------------------------------------
// The independent computation. monthSql(m) is a set of CTEs over core for the local month starting on date m; the
// last one, `tot`, has one row per household with energy data in the month.

function monthSql(m, suffix = '') {
    const s = suffix;
    return `
    b${s} AS (SELECT DATE '${m}' AS m, (DATE '${m}'::timestamp AT TIME ZONE '${TZ}') AS t0,
                   ((DATE '${m}' + interval '1 month')::timestamp AT TIME ZONE '${TZ}') AS t1),
    -- the factor of each item valid on the first day of the month, in g CO2e per unit
    f${s} AS (SELECT DISTINCT ON (factor_id) factor_id,
                     value * CASE WHEN unit LIKE 'kg %' THEN 1000.0 WHEN unit LIKE 't %' THEN 1e6 ELSE 1.0 END AS g
              FROM core.emission_factors, b${s}
              WHERE valid_from <= b${s}.m AND (valid_to IS NULL OR valid_to >= b${s}.m)
              ORDER BY factor_id, valid_from DESC),
    grid${s} AS (SELECT hour_utc, g_per_kwh::float8 AS g FROM core.grid_intensity_hourly, b${s}
                 WHERE hour_utc >= b${s}.t0 AND hour_utc < b${s}.t1),
    -- dirty hours: the top quarter of the month's grid intensity
    p75${s} AS (SELECT percentile_cont(0.75) WITHIN GROUP (ORDER BY g) AS p FROM grid${s}),
    en${s} AS (SELECT e.household_id, count(*) AS hours, sum(e.electricity_wh) / 1000.0 AS kwh,
                      sum(e.heat_wh) / 1000.0 AS heat_kwh, sum(e.water_l::float8) AS water_l,
                      sum(e.electricity_wh * coalesce(g.g, (SELECT g FROM f${s} WHERE factor_id = 'electricity'))) / 1e6 AS e_co2,
                      coalesce(sum(e.electricity_wh) FILTER (WHERE g.g >= p75${s}.p), 0) / 1000.0 AS dirty_kwh,
                      coalesce(sum(e.electricity_wh * g.g) FILTER (WHERE g.g >= p75${s}.p), 0) / 1e6 AS dirty_co2
               FROM core.energy_hourly e CROSS JOIN b${s} CROSS JOIN p75${s}
               LEFT JOIN grid${s} g ON g.hour_utc = e.hour_utc
               WHERE e.hour_utc >= b${s}.t0 AND e.hour_utc < b${s}.t1
               GROUP BY e.household_id),
    wa${s} AS (SELECT w.household_id, sum(w.kg::float8) AS kg, sum(w.kg * f.g) / 1000.0 AS co2,
                      coalesce(sum(w.kg * f.g) FILTER (WHERE w.fraction = 'residual'), 0) / 1000.0 AS residual_co2
               FROM core.waste_weighings w CROSS JOIN b${s} JOIN f${s} f ON f.factor_id = 'waste-' || w.fraction
               WHERE w.collected_on >= b${s}.m AND w.collected_on < b${s}.m + interval '1 month'
               GROUP BY w.household_id),
    mo${s} AS (SELECT d.household_id, sum(d.trips) AS trips, sum(d.km::float8) AS km, sum(d.km * f.g) / 1000.0 AS co2,
                      coalesce(sum(d.km::float8) FILTER (WHERE d.mode = 'car-petrol'), 0) AS car_km,
                      coalesce(sum(d.km * f.g) FILTER (WHERE d.mode = 'car-petrol'), 0) / 1000.0 AS car_co2
               FROM core.mobility_daily d CROSS JOIN b${s} JOIN f${s} f ON f.factor_id = d.mode
               WHERE d.day >= b${s}.m AND d.day < b${s}.m + interval '1 month'
               GROUP BY d.household_id),
    tot${s} AS (SELECT h.household_id, h.district_id, h.dwelling_type, h.occupant_band, en.hours, en.kwh, en.e_co2,
                       en.dirty_kwh, en.dirty_co2, en.heat_kwh,
                       en.heat_kwh * (SELECT g FROM f${s} WHERE factor_id = 'district-heating') / 1000.0 AS heat_co2,
                       en.water_l, en.water_l * (SELECT g FROM f${s} WHERE factor_id = 'water') / 1000.0 AS water_co2,
                       coalesce(wa.kg, 0) AS waste_kg, coalesce(wa.co2, 0) AS waste_co2,
                       coalesce(wa.residual_co2, 0) AS residual_co2,
                       coalesce(mo.trips, 0) AS trips, coalesce(mo.km, 0) AS km, coalesce(mo.co2, 0) AS mob_co2,
                       coalesce(mo.car_km, 0) AS car_km, coalesce(mo.car_co2, 0) AS car_co2,
                       en.e_co2 + en.heat_kwh * (SELECT g FROM f${s} WHERE factor_id = 'district-heating') / 1000.0
                         + en.water_l * (SELECT g FROM f${s} WHERE factor_id = 'water') / 1000.0
                         + coalesce(wa.co2, 0) + coalesce(mo.co2, 0) AS total
                FROM en${s} en JOIN core.households h USING (household_id)
                LEFT JOIN wa${s} wa USING (household_id) LEFT JOIN mo${s} mo USING (household_id))`;
}

// Expected figures of the given households for local month m (YYYY-MM-01), one JSON object per household.
function expected(adminUrl, m, households) {
    const ly = new Date(Date.parse(`${m}T00:00:00Z`));
    ly.setUTCFullYear(ly.getUTCFullYear() - 1);
    const lm = ly.toISOString().slice(0, 10);
    const ids = households.map((h) => `'${h}'::uuid`).join(',');
    const sql = `
    WITH ${monthSql(m)}, ${monthSql(lm, '_ly')},
    -- peer groups: same district, dwelling type and occupant band; widened (band, then dwelling type, then district
    -- dropped) while the group has fewer than 100 homes with data in the month
    lv AS (SELECT t.*, CASE WHEN count(*) OVER (PARTITION BY district_id, dwelling_type, occupant_band) >= 100 THEN 0
                            WHEN count(*) OVER (PARTITION BY district_id, dwelling_type) >= 100 THEN 1
                            WHEN count(*) OVER (PARTITION BY district_id) >= 100 THEN 2 ELSE 3 END AS level
           FROM tot t),
    s AS (SELECT * FROM lv WHERE household_id IN (${ids})),
    pg AS (SELECT s.household_id, count(*) AS n,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY x.total) AS median,
                  percentile_cont(0.2) WITHIN GROUP (ORDER BY x.total) AS p20,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY x.e_co2) AS e_median,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY x.heat_co2) AS heat_median,
                  100.0 * count(*) FILTER (WHERE x.total < s.total) / greatest(count(*) - 1, 1) AS rank
           FROM s JOIN tot x ON (s.level >= 3 OR x.district_id = s.district_id)
                            AND (s.level >= 2 OR x.dwelling_type = s.dwelling_type)
                            AND (s.level >= 1 OR x.occupant_band = s.occupant_band)
           GROUP BY s.household_id),
    hx AS (SELECT extract(epoch FROM b.t1 - b.t0) / 3600 AS hours_expected,
                  extract(epoch FROM l.t1 - l.t0) / 3600 AS ly_hours_expected FROM b, b_ly l)
    SELECT json_build_object('household', s.household_id, 'level', s.level, 'band', s.occupant_band,
                             'hours', s.hours, 'hours_expected', hx.hours_expected,
                             'kwh', s.kwh, 'e_co2', s.e_co2, 'dirty_kwh', s.dirty_kwh, 'dirty_co2', s.dirty_co2,
                             'heat_kwh', s.heat_kwh, 'heat_co2', s.heat_co2, 'water_l', s.water_l, 'water_co2', s.water_co2,
                             'waste_kg', s.waste_kg, 'waste_co2', s.waste_co2, 'residual_co2', s.residual_co2,
                             'trips', s.trips, 'km', s.km, 'mob_co2', s.mob_co2, 'car_km', s.car_km, 'car_co2', s.car_co2,
                             'total', s.total, 'n', pg.n, 'median', pg.median, 'p20', pg.p20, 'e_median', pg.e_median,
                             'heat_median', pg.heat_median, 'rank', pg.rank,
                             'ly_total', l.total, 'ly_hours', l.hours, 'ly_hours_expected', hx.ly_hours_expected)
    FROM s JOIN pg USING (household_id) CROSS JOIN hx LEFT JOIN tot_ly l USING (household_id)`;
    const out = psql(adminUrl, sql);
    const byId = new Map();
    for (const line of out.split('\n').filter(Boolean)) {
        const o = JSON.parse(line);
        byId.set(o.household, o);
    }
    return byId;
}

const PERSONS = { 1: 1, 2: 2, '3-4': 3.5, '5+': 5 };

// The tips the specification promises, each from the household's own figures (api-spec "Tips"); saving in kg/month.
function expectedTips(x) {
    const tips = [];
    const avgG = x.kwh > 0 ? (x.e_co2 * 1000) / x.kwh : 0;
    if (x.dirty_kwh > 0 && x.dirty_co2 > (x.dirty_kwh * avgG) / 1000) tips.push(['shift-dirty-hours', x.dirty_co2 - (x.dirty_kwh * avgG) / 1000]);
    if (x.heat_co2 > 0) {
        tips.push(['heating-one-degree', 0.05 * x.heat_co2 + (x.heat_co2 > x.heat_median && x.heat_median > 0 ? 0.5 * (x.heat_co2 - x.heat_median) : 0)]);
    }
    if (x.car_co2 > 0) tips.push(['car-to-bike', 0.2 * x.car_co2]);
    if (x.e_co2 > x.e_median && x.e_median > 0) tips.push(['electricity-standby', 0.5 * (x.e_co2 - x.e_median)]);
    if (x.residual_co2 > 0) tips.push(['sort-residual-waste', x.residual_co2 / 3]);
    return tips.sort((a, b) => b[1] - a[1]);
}

function near(have, want, tol, what) {
    assert.equal(typeof have, 'number', `${what}: ${have} is not a number`);
    assert.ok(Math.abs(have - want) <= tol, `${what}: API ${have}, SQL ${want} (tolerance ${tol})`);
}

// Compares one summary with the independent figures x.
function check(s, x, month, label) {
    const c = s.categories;
    const r3 = 0.0006; // figures are rounded to 3 decimals
    assert.equal(s.month, month.slice(0, 7), label);
    assert.equal(s.period.hours_with_data, Number(x.hours), `${label} hours with data`);
    assert.equal(s.period.hours_expected, Number(x.hours_expected), `${label} hours expected`);
    near(c.electricity.kwh, x.kwh, r3, `${label} electricity kWh`);
    near(c.electricity.co2e_kg, x.e_co2, r3, `${label} electricity CO2e weighted hour by hour`);
    near(c.electricity.dirty_hours_kwh, x.dirty_kwh, r3, `${label} electricity in dirty hours`);
    near(c.electricity.dirty_hours_co2e_kg, x.dirty_co2, r3, `${label} CO2e of dirty hours`);
    near(c.district_heating.kwh, x.heat_kwh, r3, `${label} district heating kWh`);
    near(c.district_heating.co2e_kg, x.heat_co2, r3, `${label} district heating CO2e`);
    near(c.water.litres, x.water_l, 0.01, `${label} water litres`);
    near(c.water.co2e_kg, x.water_co2, r3, `${label} water CO2e`);
    near(c.waste.kg, x.waste_kg, r3, `${label} waste kg`);
    near(c.waste.co2e_kg, x.waste_co2, r3, `${label} waste CO2e`);
    assert.equal(c.mobility.trips, Number(x.trips), `${label} trips`);
    near(c.mobility.km, x.km, 0.002, `${label} mobility km`);
    near(c.mobility.co2e_kg, x.mob_co2, r3, `${label} mobility CO2e`);
    near(s.total_co2e_kg, x.total, r3, `${label} total CO2e`);
    near(s.co2e_kg_per_person, x.total / PERSONS[x.band], r3, `${label} CO2e per person`);
    near(s.kp2035.covered_t_per_person_year_estimate, Math.round(((x.total / PERSONS[x.band]) * 12) / 10) / 100, 0.0051, `${label} KP2035 estimate`);
    // peers
    const p = s.peers;
    assert.equal(p.level, x.level, `${label} peer level`);
    assert.equal(p.widened, x.level > 0, `${label} widened`);
    assert.equal(p.n_households, Number(x.n), `${label} peer group size`);
    near(p.total_co2e_kg.median, x.median, r3, `${label} peer median`);
    near(p.total_co2e_kg.efficient_p20, x.p20, r3, `${label} efficient neighbours (20th percentile)`);
    near(p.percentile_rank, x.rank, 0.051, `${label} percentile rank`);
    near(p.categories.electricity.co2e_kg_median, x.e_median, r3, `${label} peer electricity median`);
    near(p.categories.district_heating.co2e_kg_median, x.heat_median, r3, `${label} peer heating median`);
    if (Math.abs(x.total - x.p20) > 0.001 && Math.abs(x.total - x.median) > 0.001) {
        const want = x.total <= x.p20 ? 'great' : x.total <= x.median ? 'good' : 'more';
        assert.equal(p.rating, want, `${label} rating (total ${x.total}, p20 ${x.p20}, median ${x.median})`);
    }
    // year on year: only against a last-year month with >= 90 % of its hours
    if (x.ly_total !== null && Number(x.ly_hours) >= 0.9 * Number(x.ly_hours_expected)) {
        assert.ok(s.last_year, `${label} last_year expected`);
        near(s.last_year.total_co2e_kg, x.ly_total, r3, `${label} last year's total`);
        if (x.ly_total > 0) near(s.last_year.change_pct, (100 * (x.total - x.ly_total)) / x.ly_total, 0.051, `${label} change vs last year (%)`);
    } else {
        assert.equal(s.last_year, null, `${label} no (complete) month last year -> null`);
    }
    // tips: each saving recomputed; the three largest, largest first
    const want = expectedTips(x);
    assert.equal(s.tips.length, Math.min(3, want.length), `${label} number of tips`);
    const wantKg = new Map(want);
    for (let i = 0; i < s.tips.length; ++i) {
        const t = s.tips[i];
        assert.ok(wantKg.has(t.id), `${label} tip ${t.id} not expected (${JSON.stringify(want)})`);
        near(t.saving_co2e_kg_per_month, wantKg.get(t.id), 0.011, `${label} tip ${t.id} saving`);
        if (i > 0) assert.ok(s.tips[i - 1].saving_co2e_kg_per_month >= t.saving_co2e_kg_per_month, `${label} tips ranked`);
    }
    if (want.length > 3) {
        // nothing left out saves clearly more than the third tip shown
        assert.ok(want[3][1] <= s.tips[2].saving_co2e_kg_per_month + 0.011, `${label} the 3 largest savings are shown`);
    }
}

const ISSUER = 'http://klimaspejl.summary.test';

// A service key, a client, and mint(households): one consent per household (one INSERT) and its consent token signed
// with the service key by jose (`klimaspejl token` per household would start the ASan binary 20 times).
function setup(adminUrl) {
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
    const env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: adminUrl };
    const k = runCli(['keygen'], { env });
    assert.equal(k.status, 0, k.stderr);
    const kid = k.stdout.trim();
    const c = runCli(['client', 'add', '--name', 'Summary test', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
    assert.equal(c.status, 0, c.stderr);
    const client = /client_id\s+(\S+)/.exec(c.stdout)[1];
    const pem = crypto.createPrivateKey(fs.readFileSync(path.join(keys, `${kid}.pem`))).export({ type: 'pkcs8', format: 'pem' });
    const mint = async (households) => {
        const rows = psql(adminUrl, `
            INSERT INTO core.consents (household_id, client_id, scopes, expires_at)
            SELECT h, '${client}', ARRAY['summary:read'], now() + interval '1 day'
            FROM unnest(ARRAY[${households.map((h) => `'${h}'::uuid`).join(',')}]) h
            RETURNING household_id, consent_id`).split('\n');
        const key = await jose.importPKCS8(pem, 'ES256');
        const now = Math.floor(Date.now() / 1000);
        const tokens = new Map();
        for (const row of rows) {
            const [household, cid] = row.split('|');
            tokens.set(household, await new jose.SignJWT({ scope: 'summary:read', cid, jti: crypto.randomUUID() })
                .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
                .setIssuer(ISSUER).setSubject(household).setAudience(client)
                .setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 3600)
                .sign(key));
        }
        assert.equal(tokens.size, households.length);
        return tokens;
    };
    return { keys, mint };
}

async function summary(port, token, month, lang = 'en') {
    const r = await request(port, { path: `/v1/me/summary?month=${month.slice(0, 7)}&lang=${lang}`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body);
}

describe('summary: 20 sampled households x 3 months equal SQL on core', () => {
    let srv;
    let keys;
    let tokens;
    let households;
    let months;
    const want = new Map(); // month -> the independent figures of the sample

    before(async () => {
        const s = setup(DB_ADMIN_URL);
        keys = s.keys;
        households = psql(DB_ADMIN_URL, `SELECT household_id FROM core.households ORDER BY md5(household_id::text) LIMIT ${SAMPLE}`).split('\n');
        assert.equal(households.length, SAMPLE);
        tokens = await s.mint(households);
        // the newest month with data (partial, but last year's is complete), the newest October and March (DST)
        months = psql(DB_ADMIN_URL, `
            WITH r AS (SELECT (min(hour_utc) AT TIME ZONE '${TZ}')::date AS lo, (max(hour_utc) AT TIME ZONE '${TZ}')::date AS hi
                       FROM core.grid_intensity_hourly),
                 ms AS (SELECT generate_series(date_trunc('month', r.lo), date_trunc('month', r.hi), interval '1 month')::date AS m FROM r)
            SELECT m FROM (SELECT max(m) AS m FROM ms
                           UNION SELECT max(m) FROM ms, r WHERE extract(month FROM m) = 10 AND m >= r.lo
                           UNION SELECT max(m) FROM ms, r WHERE extract(month FROM m) = 3 AND m >= r.lo) x
            WHERE m IS NOT NULL ORDER BY m`).split('\n');
        assert.ok(months.length >= 2, `months: ${months}`);
        srv = await startServer({ env: { KLIMA_KEYS_DIR: keys, KLIMA_ISSUER: ISSUER } });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        if (keys) fs.rmSync(keys, { recursive: true, force: true });
    });

    test('every figure of every sampled household and month', async () => {
        let compared = 0;
        let withLastYear = 0;
        const ratings = new Set();
        for (const m of months) {
            want.set(m, expected(DB_ADMIN_URL, m, households));
            for (const h of households) {
                const x = want.get(m).get(h);
                if (x === undefined) {
                    // no energy data that month: the API says so with a 404 naming the month
                    const r = await request(srv.port, { path: `/v1/me/summary?month=${m.slice(0, 7)}`, headers: { authorization: `Bearer ${tokens.get(h)}` } });
                    assert.equal(r.status, 404, r.body);
                    continue;
                }
                const s = await summary(srv.port, tokens.get(h), m);
                check(s, x, m, `${h.slice(0, 8)} ${m.slice(0, 7)}`);
                compared += 1;
                withLastYear += s.last_year !== null;
                ratings.add(s.peers.rating);
            }
            if (m.slice(5, 7) === '03') assert.equal([...want.get(m).values()][0].hours_expected, 743, 'March has 743 local hours');
            if (m.slice(5, 7) === '10') assert.equal([...want.get(m).values()][0].hours_expected, 745, 'October has 745 local hours');
        }
        assert.ok(compared >= SAMPLE * 2, `compared ${compared} summaries`);
        assert.ok(withLastYear > 0, 'some summaries have a year-on-year change');
        assert.ok(ratings.size >= 2, `ratings seen: ${[...ratings]}`);
    });

    test('the rating words praise low users and never compare them upward, in Danish and English', async () => {
        const m = months[months.length - 1];
        // the lowest and the highest emitter of the sample in the newest month, by the independent totals
        const sorted = [...(want.get(m) ?? expected(DB_ADMIN_URL, m, households)).values()].sort((a, b) => a.total - b.total);
        const low = sorted[0];
        const high = sorted[sorted.length - 1];
        const lowEn = await summary(srv.port, tokens.get(low.household), m, 'en');
        const lowDa = await summary(srv.port, tokens.get(low.household), m, 'da');
        const highEn = await summary(srv.port, tokens.get(high.household), m, 'en');
        const highDa = await summary(srv.port, tokens.get(high.household), m, 'da');
        for (const [s, x, lang] of [[lowEn, low, 'en'], [lowDa, low, 'da'], [highEn, high, 'en'], [highDa, high, 'da']]) {
            const rating = x.total <= x.p20 ? 'great' : x.total <= x.median ? 'good' : 'more';
            assert.equal(s.peers.rating, rating);
            assert.equal(s.lang, lang);
            const text = s.peers.rating_text;
            if (rating === 'great') assert.match(text, lang === 'en' ? /^Great!.*Keep it up\.$/ : /^Flot!.*Bliv ved med det\.$/);
            if (rating === 'good') assert.match(text, lang === 'en' ? /^Good!/ : /^Godt!/);
            if (rating === 'more') assert.match(text, lang === 'en' ? /^You emit more than similar homes/ : /^I udleder mere end lignende hjem/);
            if (rating !== 'more') assert.doesNotMatch(text, /more than|mere end/, 'a low user is not told to compare upward');
            // the kg in the text are the household's own total and the peer figure, whole kg (Danish: no decimals either)
            assert.ok(text.includes(String(Math.round(x.total))), `${text} names ${Math.round(x.total)} kg`);
        }
        assert.notEqual(lowEn.peers.rating, 'more', 'the lowest emitter of 20 is not "more than similar homes"');
        // tip texts: Danish decimals with a comma, English with a point
        for (const t of highDa.tips) assert.doesNotMatch(t.text, /\d\.\d/, t.text);
        for (const t of highEn.tips) assert.doesNotMatch(t.text, /\d,\d/, t.text);
    });
});

describe('summary: the peer group widens exactly when a group has fewer than 100 homes', () => {
    let db;
    let srv;
    let keys;
    let mint;
    const M = '2026-01-01';

    before(async () => {
        db = createDatabase('wide');
        const env = { KLIMA_DB_ADMIN_URL: db.adminUrl };
        let r = runCli(['migrate', '--dir', path.join(ROOT, 'sql/migrations')], { env, timeout: 120_000 });
        assert.equal(r.status, 0, r.stderr);
        // 3,000 homes: about 300 per district, so some district x dwelling x band groups reach 100 (level 0), many
        // district x dwelling groups do (level 1), the rest only the district (level 2)
        r = runCli(['seed', '--households', '3000', '--days', '1', '--end', '2026-01-16', '--jobs', '1'], { env, timeout: 120_000 });
        assert.equal(r.status, 0, r.stderr);
        // one district keeps energy data for 50 homes only: its homes compare with the whole city (level 3); the
        // rollups are rebuilt by hand, in the release's order, up to the citizen ones (seed does not refresh)
        psql(db.adminUrl, `
            DELETE FROM core.energy_hourly WHERE household_id IN
                (SELECT household_id FROM core.households WHERE district_id = 7 ORDER BY household_id OFFSET 50);
            SELECT meta.refresh_rollup(name) FROM meta.rollups
            WHERE refresh_order <= (SELECT refresh_order FROM meta.rollups WHERE name = 'rollup.household_peer_monthly')
            ORDER BY refresh_order;`);
        ({ keys, mint } = setup(db.adminUrl));
        srv = await startServer({ env: { KLIMA_KEYS_DIR: keys, KLIMA_ISSUER: ISSUER }, dbUrl: db.apiUrl });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        if (keys) fs.rmSync(keys, { recursive: true, force: true });
        if (db) db.drop();
    });

    test('levels 0-3 each: level, criteria, group size, median, 20th percentile and rank equal SQL on core', async () => {
        // three homes per level by the independent rule (lv in expected()), chosen by a hash of their id
        const picks = psql(db.adminUrl, `
            WITH ${monthSql(M)},
            lv AS (SELECT t.household_id, CASE WHEN count(*) OVER (PARTITION BY district_id, dwelling_type, occupant_band) >= 100 THEN 0
                                               WHEN count(*) OVER (PARTITION BY district_id, dwelling_type) >= 100 THEN 1
                                               WHEN count(*) OVER (PARTITION BY district_id) >= 100 THEN 2 ELSE 3 END AS level
                   FROM tot t)
            SELECT household_id FROM (SELECT household_id, row_number() OVER (PARTITION BY level ORDER BY md5(household_id::text)) AS i
                                      FROM lv) x WHERE i <= 3`).split('\n');
        const want = expected(db.adminUrl, M, picks);
        const tokens = await mint(picks);
        const levels = new Set();
        for (const h of picks) {
            const x = want.get(h);
            const s = await summary(srv.port, tokens.get(h), M);
            check(s, x, M, `${h.slice(0, 8)} level ${x.level}`);
            levels.add(x.level);
            const crit = s.peers.criteria;
            assert.equal('occupant_band' in crit, x.level === 0, 'band in the criteria only at level 0');
            assert.equal('dwelling_type' in crit, x.level <= 1, 'dwelling type in the criteria up to level 1');
            assert.equal('district' in crit, x.level <= 2, 'district in the criteria up to level 2');
            if (x.level < 3) assert.ok(s.peers.n_households >= 100, 'a group of at least 100 homes');
        }
        assert.deepEqual([...levels].sort(), [0, 1, 2, 3], 'every widening level is exercised');
    });
});
