// sources.test.mjs — real data sources (issue 18): `klimaspejl ingest eds-co2` (Energi Data Service CO2Emis and
// CO2EmisProg, JSON and the Danish CSV download) and `klimaspejl ingest eloverblik` (MyEnergyData_MarketDocument) on
// fresh databases, with the fixtures of tests/fixtures/eds and tests/fixtures/eloverblik:
//   - every fixture ingested twice gives the same rows in every table it touches;
//   - the DST days give 23 and 25 hourly intensities (276 and 300 five-minute points per price area);
//   - gaps follow the documented rule (the mean of the hour's points; fewer than 6 points: no intensity), identical
//     duplicates count once, a newer overlapping file replaces what it covers;
//   - a corrupt file changes nothing and names file, JSON path (or CSV line) and reason;
//   - after ingest eds-co2 + eloverblik + refresh, the household's electricity CO2e is its hourly Wh x the intensity
//     recomputed here from the fixture files (not from the server's tables), hour by hour and for the month.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, createDatabase, psql, request, ROOT, runCli, startServer, waitReady } from './harness.mjs';

const EDS = path.join(ROOT, 'tests/fixtures/eds');
const ELO = path.join(ROOT, 'tests/fixtures/eloverblik');
const HOUSEHOLDS = path.join(ROOT, 'tests/fixtures/ingest/households-good.csv');
const HOUSEHOLD = fs.readFileSync(HOUSEHOLDS, 'utf8').split('\n')[1].split(',')[0];

// Every row of every table a source load writes, as one digest.
const SNAPSHOT = `SET TimeZone = 'UTC'; SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (
    SELECT 'p ' || dataset || area || minute5_utc || ' ' || g_per_kwh || ' ' || batch_id FROM core.grid_emission_points
    UNION ALL SELECT 'h ' || hour_utc || ' ' || g_per_kwh || source FROM core.grid_intensity_hourly
    UNION ALL SELECT 'b ' || batch_id || dataset || sha256 || covers_from || covers_to || records FROM core.source_batches
    UNION ALL SELECT 'm ' || metering_point || household_id FROM core.metering_points
    UNION ALL SELECT 'x ' || metering_point || hour_utc || wh || quality || batch_id FROM core.electricity_metered
    UNION ALL SELECT 'e ' || household_id || hour_utc || electricity_wh || ' ' || heat_wh || ' ' || water_l FROM core.energy_hourly
) s(x)`;

function freshDb(suffix) {
    const db = createDatabase(suffix);
    const env = { KLIMA_DB_ADMIN_URL: db.adminUrl, KLIMA_DB_URL: db.adminUrl };
    const m = runCli(['migrate'], { env, timeout: 300_000 });
    assert.equal(m.status, 0, m.stderr);
    const h = runCli(['ingest', 'households', HOUSEHOLDS], { env });
    assert.equal(h.status, 0, h.stderr);
    return { ...db, env, snap: () => psql(db.adminUrl, SNAPSHOT).split('\n').pop() };
}

function ingest(db, args) {
    return runCli(['ingest', ...args], { env: db.env, timeout: 120_000 });
}

// The fixture's 5-minute points of a price area, as { utcMs: value } (JSON or the Danish CSV), null values left out.
function points(file, area) {
    const text = fs.readFileSync(file, 'utf8');
    const out = new Map();
    if (file.endsWith('.json')) {
        for (const r of JSON.parse(text).records) {
            if (r.PriceArea === area && r.CO2Emission !== null) out.set(Date.parse(`${r.Minutes5UTC}Z`), r.CO2Emission);
        }
    } else {
        for (const line of text.trim().split(/\r?\n/).slice(1)) {
            const [u, , a, v] = line.split(';');
            if (a === area) out.set(Date.parse(`${u.replace(' ', 'T')}:00Z`), Number(v.replace(',', '.')));
        }
    }
    return out;
}
// The documented hourly rule, applied to the fixture: { hourMs: mean } for hours with at least 6 points.
function hourly(pts) {
    const acc = new Map();
    for (const [t, v] of pts) {
        const h = t - (t % 3_600_000);
        const a = acc.get(h) ?? [0, 0];
        acc.set(h, [a[0] + v, a[1] + 1]);
    }
    const out = new Map();
    for (const [h, [s, n]] of acc) if (n >= 6) out.set(h, s / n);
    return out;
}
// Points of several files loaded in order: a later file replaces every point inside [its first, its last point].
function loadedInOrder(files, area) {
    let cur = new Map();
    for (const f of files) {
        const p = points(f, area);
        const lo = Math.min(...p.keys()), hi = Math.max(...p.keys());
        cur = new Map([...cur].filter(([t]) => t < lo || t > hi));
        for (const [t, v] of p) cur.set(t, v);
    }
    return cur;
}
const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('ingest eds-co2 and eloverblik', () => {
    let db;
    before(() => {
        db = freshDb('src');
    });
    after(() => db?.drop());

    const good = [
        ['eds-co2', path.join(EDS, 'CO2Emis-2025-03-30.json')],
        ['eds-co2', path.join(EDS, 'CO2Emis-2025-10-26.csv')],
        ['eds-co2', path.join(EDS, 'CO2EmisProg-2025-03-31.json')],
        ['eds-co2', path.join(EDS, 'CO2Emis-2025-03-31.json')],
        ['eds-co2', path.join(EDS, 'CO2Emis-2025-03-31-revised.json')],
        ['eds-co2', path.join(EDS, 'CO2Emis-gaps.json')],
        ['eds-co2', path.join(EDS, 'CO2Emis-duplicates.json')],
        ['eloverblik', path.join(ELO, 'hourly-2025-03-31.json')],
        ['eloverblik', path.join(ELO, 'quarter-2025-03-30.json')],
    ];

    test('each fixture ingested twice gives the same rows', () => {
        for (const [kind, file] of good) {
            const args = kind === 'eloverblik' ? [kind, file, '--household', HOUSEHOLD] : [kind, file];
            const first = ingest(db, args);
            assert.equal(first.status, 0, `${file}: ${first.stderr}`);
            const a = db.snap();
            const second = ingest(db, args);
            assert.equal(second.status, 0, `${file}: ${second.stderr}`);
            assert.match(second.stdout, /loaded before: nothing changed/);
            assert.equal(db.snap(), a, `${path.basename(file)} ingested twice changed rows`);
        }
    });

    test('the DST days have 23 and 25 hourly intensities (276 and 300 points per area)', () => {
        const q = (sql) => psql(db.adminUrl, sql).split('\n').pop();
        const day = (d) => `(hour_utc AT TIME ZONE 'Europe/Copenhagen')::date = '${d}'`;
        assert.equal(q(`SELECT count(*) FROM core.grid_intensity_hourly WHERE source = 'CO2Emis' AND ${day('2025-03-30')}`), '23');
        assert.equal(q(`SELECT count(*) FROM core.grid_intensity_hourly WHERE source = 'CO2Emis' AND ${day('2025-10-26')}`), '25');
        for (const area of ['DK1', 'DK2']) {
            assert.equal(q(`SELECT count(*) FROM core.grid_emission_hourly WHERE dataset = 'CO2Emis' AND area = '${area}' AND ${day('2025-03-30')}`), '23');
            assert.equal(q(`SELECT count(*) FROM core.grid_emission_points WHERE dataset = 'CO2Emis' AND area = '${area}'
                            AND (minute5_utc AT TIME ZONE 'Europe/Copenhagen')::date = '2025-10-26'`), '300');
            assert.equal(q(`SELECT count(*) FROM core.grid_emission_points WHERE dataset = 'CO2Emis' AND area = '${area}'
                            AND (minute5_utc AT TIME ZONE 'Europe/Copenhagen')::date = '2025-03-30'`), '276');
        }
    });

    test('hourly intensity follows the rule: means, gaps, duplicates, a newer file replacing what it covers', () => {
        const files = ['CO2Emis-2025-03-30.json', 'CO2Emis-2025-10-26.csv', 'CO2Emis-2025-03-31.json', 'CO2Emis-2025-03-31-revised.json',
            'CO2Emis-gaps.json', 'CO2Emis-duplicates.json'].map((f) => path.join(EDS, f));
        const expect = hourly(loadedInOrder(files, 'DK2'));
        const rows = psql(db.adminUrl, `SELECT extract(epoch FROM hour_utc)::bigint * 1000, g_per_kwh FROM core.grid_intensity_hourly
                                        WHERE source = 'CO2Emis' ORDER BY 1`).split('\n').filter(Boolean).map((l) => l.split('|').map(Number));
        assert.deepEqual(rows.map((r) => r[0]), [...expect.keys()].sort((a, b) => a - b));
        for (const [h, v] of rows) close(v, expect.get(h), new Date(h).toISOString());
        // the gaps fixture, by hand: hour 01 had 4 points (none), hour 04 no DK2 points (none), hour 02 the mean of 8
        const gaps = rows.filter(([h]) => h >= Date.parse('2025-04-01T00:00:00Z') && h < Date.parse('2025-04-01T06:00:00Z')).map(([h]) => new Date(h).getUTCHours());
        assert.deepEqual(gaps, [0, 2, 3, 5]);
        assert.equal(psql(db.adminUrl, `SELECT points FROM core.grid_emission_hourly WHERE dataset = 'CO2Emis' AND area = 'DK2'
                                        AND hour_utc = '2025-04-01T02:00Z'`).split('\n').pop(), '8');
        // the revised file replaced 06:00-09:00Z of 2025-03-31; 05:00Z is still the first file's
        const first = hourly(points(path.join(EDS, 'CO2Emis-2025-03-31.json'), 'DK2'));
        const revised = hourly(points(path.join(EDS, 'CO2Emis-2025-03-31-revised.json'), 'DK2'));
        const at = (iso) => rows.find(([h]) => h === Date.parse(iso))[1];
        close(at('2025-03-31T07:00:00Z'), revised.get(Date.parse('2025-03-31T07:00:00Z')), 'revised hour');
        assert.notEqual(Math.round(at('2025-03-31T07:00:00Z')), Math.round(first.get(Date.parse('2025-03-31T07:00:00Z'))));
        close(at('2025-03-31T05:00:00Z'), first.get(Date.parse('2025-03-31T05:00:00Z')), 'hour outside the revision');
        // the quarter-hourly day: 23 hours, the quarters summed, the two hours with estimated quarters keep both codes
        const q = psql(db.adminUrl, `SELECT count(*), count(*) FILTER (WHERE quality = 'A03+A04') FROM core.electricity_metered
                                     WHERE resolution = 'PT15M'`).split('\n').pop();
        assert.equal(q, '23|2');
    });

    test('a corrupt file changes nothing and names file, path and reason', () => {
        const before = db.snap();
        const cases = [
            [['eds-co2', path.join(EDS, 'CO2Emis-bad-area.json')], '$.records[5].PriceArea: expected DK1 or DK2'],
            [['eds-co2', path.join(EDS, 'CO2Emis-bad-local-time.json')], '$.records[7].Minutes5DK: not Minutes5UTC in Copenhagen time'],
            [['eds-co2', path.join(EDS, 'CO2Emis-conflict.json')], '.CO2Emission: repeats the point'],
            [['eloverblik', path.join(ELO, 'bad-quantity.json'), '--household', HOUSEHOLD],
                '$.result[0].MyEnergyData_MarketDocument.TimeSeries[0].Period[0].Point[5].out_Quantity.quantity: expected kWh'],
        ];
        for (const [args, message] of cases) {
            const r = ingest(db, args);
            assert.equal(r.status, 1, `${args[1]}: ${r.stdout}`);
            assert.ok(r.stderr.startsWith(`${args[1]}: `), r.stderr);
            assert.ok(r.stderr.includes(message), `${r.stderr} lacks ${message}`);
            assert.equal(db.snap(), before, `${path.basename(args[1])} changed rows`);
        }
    });
});

describe('electricity CO2e from ingested intensity', () => {
    let db;
    let srv;
    let keys;
    let token;
    let env;
    before(async () => {
        db = freshDb('co2e');
        for (const f of ['CO2Emis-2025-03-30.json', 'CO2Emis-2025-03-31.json', 'CO2EmisProg-2025-03-31.json']) {
            assert.equal(ingest(db, ['eds-co2', path.join(EDS, f)]).status, 0);
        }
        for (const f of ['quarter-2025-03-30.json', 'hourly-2025-03-31.json']) {
            const r = ingest(db, ['eloverblik', path.join(ELO, f), '--household', HOUSEHOLD]);
            assert.equal(r.status, 0, r.stderr);
        }
        const rf = runCli(['refresh'], { env: db.env, timeout: 300_000 });
        assert.equal(rf.status, 0, rf.stderr);
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        env = { ...db.env, KLIMA_KEYS_DIR: keys };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Sources test', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
        const client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        const t = runCli(['token', '--household', HOUSEHOLD, '--scope', 'summary:read energy:read', '--client', client], { env });
        assert.equal(t.status, 0, t.stderr);
        token = t.stdout.trim().split('\n').pop().trim();
        srv = await startServer({ dbUrl: db.apiUrl, env: { KLIMA_KEYS_DIR: keys } });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        if (keys) fs.rmSync(keys, { recursive: true, force: true });
        db?.drop();
    });

    // The household's Wh per UTC hour, from the Eloverblik fixtures (quarters summed).
    function meteredWh() {
        const wh = new Map();
        for (const f of ['quarter-2025-03-30.json', 'hourly-2025-03-31.json']) {
            const doc = JSON.parse(fs.readFileSync(path.join(ELO, f), 'utf8'));
            for (const p of doc.result[0].MyEnergyData_MarketDocument.TimeSeries[0].Period) {
                const step = p.resolution === 'PT15M' ? 15 * 60_000 : 3_600_000;
                for (const pt of p.Point) {
                    const t = Date.parse(p.timeInterval.start) + (Number(pt.position) - 1) * step;
                    const h = t - (t % 3_600_000);
                    wh.set(h, (wh.get(h) ?? 0) + Math.round(Number(pt['out_Quantity.quantity']) * 1000));
                }
            }
        }
        return wh;
    }

    test('hourly Wh x the fixture\'s intensity, hour by hour and for the month', async () => {
        const intensity = hourly(loadedInOrder(['CO2Emis-2025-03-30.json', 'CO2Emis-2025-03-31.json'].map((f) => path.join(EDS, f)), 'DK2'));
        const wh = meteredWh();
        const r = await request(srv.port, { path: '/v1/me/energy?from=2025-03-29T23:00:00Z&to=2025-03-31T22:00:00Z&resolution=hour&tz=UTC',
            headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.status, 200, r.body);
        const rows = JSON.parse(r.body).rows;
        assert.equal(rows.length, 47);
        let covered = 0;
        for (const row of rows) {
            const h = Date.parse(row.period_start_utc);
            assert.equal(row.electricity_wh, wh.get(h), `Wh at ${row.period_start_utc}`);
            if (!intensity.has(h)) continue; // after 10:00Z on the 31st: no realised data in the fixture
            close(row.electricity_co2e_g, (wh.get(h) * intensity.get(h)) / 1000, `CO2e g at ${row.period_start_utc}`);
            ++covered;
        }
        assert.equal(covered, 23 + 12, 'every hour of the DST day and the realised half of the next');
        // the month after the release: the summary's electricity CO2e = the covered hours above + the uncovered hours
        // at the published electricity factor
        const factors = JSON.parse((await request(srv.port, { path: '/v1/emission-factors' })).body);
        const fallback = factors.factors.find((f) => f.factor_id === 'electricity').value; // g/kWh
        let grams = 0;
        for (const [h, w] of wh) grams += (w * (intensity.get(h) ?? fallback)) / 1000;
        const s = await request(srv.port, { path: '/v1/me/summary?month=2025-03', headers: { authorization: `Bearer ${token}` } });
        assert.equal(s.status, 200, s.body);
        const el = JSON.parse(s.body).categories.electricity;
        assert.ok(Math.abs(el.co2e_kg - grams / 1000) < 0.0015, `summary ${el.co2e_kg} kg vs ${grams / 1000} kg from the fixtures`);
    });

    test('GET /v1/grid/forecast: the hand-computed greenest window of the fixture', async () => {
        const get = async (q) => request(srv.port, { path: `/v1/grid/forecast?${q}` });
        // CO2EmisProg-2025-03-31.json, DK2, by hand: 11:00Z 97, 12:00Z 134, 13:00Z 41.5, 14:00Z 38.25, 15:00Z 44.75,
        // 16:00Z 70, then 119 and up (each hour's 12 points carry -1/0/+1 four times each, so the means are exact)
        let r = await get('from=2025-03-31T11:00Z&hours=12&window=3');
        assert.equal(r.status, 200, r.body);
        let b = JSON.parse(r.body);
        assert.equal(b.area, 'DK2');
        assert.equal(b.hours.length, 12);
        assert.ok(b.hours.every((h) => h.kind === 'forecast'));
        assert.deepEqual(b.hours.slice(0, 6).map((h) => h.g_per_kwh), [97, 134, 41.5, 38.25, 44.75, 70]);
        assert.deepEqual(b.greenest, { hours: 3, start_utc: '2025-03-31T13:00:00Z', end_utc: '2025-03-31T16:00:00Z',
            start_dk: '2025-03-31T15:00:00', end_dk: '2025-03-31T18:00:00', mean_g_per_kwh: 41.5 });
        b = JSON.parse((await get('from=2025-03-31T11:00Z&hours=12&window=1')).body);
        assert.equal(b.greenest.start_utc, '2025-03-31T14:00:00Z');
        assert.equal(b.greenest.mean_g_per_kwh, 38.25);
        b = JSON.parse((await get('from=2025-03-31T11:00Z&hours=12&window=2')).body);
        assert.equal(b.greenest.start_utc, '2025-03-31T13:00:00Z');
        assert.equal(b.greenest.mean_g_per_kwh, 39.88);
        // the whole forecast day: realised hours (22:00Z-10:00Z) replace the forecast; the window recomputed here
        r = await get('from=2025-03-31T00:00Z&hours=24');
        assert.equal(r.status, 200, r.body);
        b = JSON.parse(r.body);
        const realised = hourly(points(path.join(EDS, 'CO2Emis-2025-03-31.json'), 'DK2'));
        const forecast = hourly(points(path.join(EDS, 'CO2EmisProg-2025-03-31.json'), 'DK2'));
        const expect = [];
        for (let i = 0; i < 24; ++i) {
            const h = Date.parse('2025-03-31T00:00:00Z') + i * 3_600_000;
            const v = realised.get(h) ?? forecast.get(h);
            expect.push({ hour_utc: new Date(h).toISOString().replace('.000', ''), kind: realised.has(h) ? 'realised' : 'forecast', v });
        }
        assert.deepEqual(b.hours.map((h) => [h.hour_utc, h.kind]), expect.map((e) => [e.hour_utc, e.kind]));
        b.hours.forEach((h, i) => close(h.g_per_kwh, Math.round(expect[i].v * 100) / 100, h.hour_utc));
        let best = null;
        for (let i = 0; i + 3 <= 24; ++i) {
            const mean = (expect[i].v + expect[i + 1].v + expect[i + 2].v) / 3;
            if (best === null || mean < best.mean - 1e-9) best = { i, mean };
        }
        assert.equal(b.greenest.start_utc, expect[best.i].hour_utc);
        close(b.greenest.mean_g_per_kwh, Math.round(best.mean * 100) / 100, 'window mean');
        // cached until the next hour at most, revalidated by ETag
        assert.match(String(r.headers['cache-control']), /public, max-age=\d+/);
        assert.ok(Number(/max-age=(\d+)/.exec(r.headers['cache-control'])[1]) <= 3600);
        const again = await request(srv.port, { path: '/v1/grid/forecast?from=2025-03-31T00:00Z&hours=24', headers: { 'if-none-match': r.headers.etag } });
        assert.equal(again.status, 304);
        // bad parameters: 400 naming the parameter, before any SQL
        for (const [q, param] of [['hours=0', 'hours'], ['hours=49', 'hours'], ['window=7', 'window'], ['hours=2&window=3', 'window'],
            ['from=2025-03-31T13:30Z', 'from'], ['from=yesterday', 'from'], ['hours=1e3', 'hours']]) {
            const e = await get(q);
            assert.equal(e.status, 400, `${q}: ${e.body}`);
            assert.equal(JSON.parse(e.body).parameter, param, q);
        }
    });

    test('the grid-intensity-forecast dataset: no household data, linked, with its provenance in the catalog and DCAT', async () => {
        const d = JSON.parse((await request(srv.port, { path: '/v1/datasets/grid-intensity-forecast' })).body);
        assert.equal(d.personal, false);
        assert.ok(d.derived_from.includes('grid-intensity-hourly'));
        assert.match(d.description_en, /no household data, so no disclosure control applies/);
        const sources = d.provenance.map((p) => p.dataset).sort();
        assert.deepEqual(sources, ['CO2Emis', 'CO2EmisProg']);
        assert.ok(d.provenance.every((p) => p.licence === 'CC-BY-4.0' && p.source === 'Energi Data Service (Energinet)' && p.last_fetched_at));
        const energy = JSON.parse((await request(srv.port, { path: '/v1/datasets/energy-district-hourly' })).body);
        assert.deepEqual(energy.provenance.map((p) => p.dataset), ['MyEnergyData_MarketDocument']);
        const dcat = JSON.parse((await request(srv.port, { path: '/v1/catalog.jsonld' })).body);
        const node = JSON.stringify(dcat).includes('CO2EmisProg') && dcat['@graph'].flatMap((n) => n['dcat:dataset'] ?? [n])
            .find((n) => String(n['@id'] ?? '').endsWith('/v1/datasets/grid-intensity-forecast') && n['dct:provenance']);
        assert.ok(node, 'the dataset is in the DCAT catalog with its provenance');
        assert.ok(node['dct:provenance'].some((p) => /CO2EmisProg/.test(p['rdfs:label'])), JSON.stringify(node['dct:provenance']));
        const rec = JSON.parse((await request(srv.port, { path: '/v1/datasets/grid-intensity-forecast/records?area=eq:DK2&kind=eq:realised&limit=100' })).body);
        assert.equal(rec.data.length, 10, JSON.stringify(rec).slice(0, 300));
    });
});

describe('fetch eds against a fake Energi Data Service', () => {
    const files = ['CO2Emis-2025-03-30.json', 'CO2Emis-2025-03-31.json', 'CO2EmisProg-2025-03-31.json'].map((f) => path.join(EDS, f));
    const ROWS = `SET TimeZone = 'UTC'; SELECT md5(string_agg(x, '|' ORDER BY x)) || ' ' || count(*) FROM (
        SELECT 'p ' || dataset || area || minute5_utc || ' ' || g_per_kwh FROM core.grid_emission_points
        UNION ALL SELECT 'h ' || hour_utc || ' ' || g_per_kwh || source FROM core.grid_intensity_hourly) s(x)`;
    let fake;
    let port;
    let dir;
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-eds-'));
        const portFile = path.join(dir, 'port');
        const { spawn } = await import('node:child_process');
        fake = spawn(process.execPath, [path.join(ROOT, 'tests/fake/eds-service.mjs'), portFile, ...files], { stdio: 'inherit' });
        for (let i = 0; i < 100 && !fs.existsSync(portFile); ++i) await new Promise((r) => setTimeout(r, 100));
        port = fs.readFileSync(portFile, 'utf8').trim();
    });
    after(() => {
        fake?.kill('SIGTERM');
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('pages through, honours 429 Retry-After, and leaves the same rows as ingesting the files', async () => {
        const fetched = freshDb('fetch');
        const ingested = freshDb('files');
        try {
            const t0 = Date.now();
            const r = runCli(['fetch', 'eds', '--from', '2025-03-30', '--to', '2025-04-02', '--page-size', '200'],
                { env: { ...fetched.env, KLIMA_EDS_URL: `http://127.0.0.1:${port}` }, timeout: 120_000 });
            assert.equal(r.status, 0, r.stderr);
            assert.ok(Date.now() - t0 >= 2000, 'waited Retry-After (1 s) once per dataset');
            const log = JSON.parse((await request(Number(port), { path: '/_log' })).body);
            for (const name of ['CO2Emis', 'CO2EmisProg']) {
                const mine = log.filter((x) => x.dataset === name);
                assert.equal(mine[0].status, 429, `${name}: the first answer was the rate limit`);
                assert.equal(mine[1].offset, 0, `${name}: the same page again after it`);
                const pages = mine.filter((x) => x.status === 200);
                assert.ok(pages.length >= 3, `${name}: paged (${pages.length} pages)`);
                assert.deepEqual(pages.map((x) => x.offset), pages.map((_, i) => i * 200), `${name}: offsets`);
                assert.ok(pages.every((x) => x.limit === 200 && x.query.includes('start=2025-03-30') && x.query.includes('end=2025-04-02')));
            }
            for (const f of files) assert.equal(ingest(ingested, ['eds-co2', f]).status, 0);
            const a = psql(fetched.adminUrl, ROWS).split('\n').pop(), b = psql(ingested.adminUrl, ROWS).split('\n').pop();
            assert.equal(a, b, 'fetch and ingest of the same records give the same rows');
            assert.notEqual(b.split(' ')[1], '0');
            const prov = psql(fetched.adminUrl, "SELECT string_agg(dataset || ' ' || source_url, ',' ORDER BY dataset) FROM core.source_batches").split('\n').pop();
            assert.match(prov, /CO2Emis http:\/\/127\.0\.0\.1:\d+\/dataset\/CO2Emis\?start=2025-03-30&end=2025-04-02,CO2EmisProg /);
        } finally {
            fetched.drop();
            ingested.drop();
        }
    });
});
