// opendata.test.mjs — @klimaspejl/client against a real klimaspejl server (the build in KLIMA_BIN, one worker thread)
// and the real seeded test database: the catalog, a filtered grouped query equal to the same aggregation done by psql
// on the api view, recordsAll following cursors over many small pages (every row exactly once, in the SQL order), the
// ETag cache's 304 path seen on the wire, problem errors with the parameter name, the streamed download, and the
// feedback route's real per-address rate limit (429 + Retry-After) waited out by the client's retry.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DB_ADMIN_URL, assertCleanExit, psql, startServer } from '../../../tests/integration/harness.mjs';
import { KlimaspejlClient, KlimaspejlError } from '../src/index.js';

const near = (a, b) => Math.abs(Number(a) - Number(b)) <= 1e-6 * Math.max(1, Math.abs(Number(b)));
const sql = (q) => psql(DB_ADMIN_URL, q);
const sqlRows = (q) => {
    const out = sql(q);
    return out === '' ? [] : out.split('\n').map((l) => l.split('|'));
};

let srv;
let baseUrl;
// every request the counting client made: { method, url, status, ifNoneMatch }
const wire = [];
const counting = (input, init = {}) =>
    fetch(input, init).then((res) => {
        wire.push({ method: init.method || 'GET', url: String(input), status: res.status, ifNoneMatch: init.headers?.['if-none-match'] });
        return res;
    });
let client;
// a stretch of days that has data in every district: the last 20 days before the newest one
let fromDay;
let toDay;

before(async () => {
    // one worker thread, so the per-thread feedback rate limit is deterministic
    srv = await startServer({ threads: '1' });
    baseUrl = `http://127.0.0.1:${srv.port}`;
    client = new KlimaspejlClient({ baseUrl, fetch: counting, lang: 'en' });
    [fromDay, toDay] = sql("SELECT max(day) - 20, max(day) FROM api.energy_district_daily").split('|');
});
after(async () => {
    if (srv) assertCleanExit(assert, await srv.stop());
});

test('listDatasets and getDataset return the catalog the database holds', async () => {
    const list = await client.listDatasets();
    const inDb = sql("SELECT string_agg(id, ',' ORDER BY id) FROM meta.datasets").split(',');
    assert.equal(list.count, inDb.length);
    assert.deepEqual(list.datasets.map((d) => d.id).sort(), inDb);
    assert.equal(list.lang, 'en');
    const da = await client.listDatasets({ lang: 'da' });
    assert.equal(da.lang, 'da');
    assert.equal(da.datasets.find((d) => d.id === 'energy-district-daily').title, da.datasets.find((d) => d.id === 'energy-district-daily').title_da);
    const ds = await client.getDataset('energy-district-daily');
    assert.equal(ds.id, 'energy-district-daily');
    assert.ok(ds.schema.fields.some((f) => f.name === 'electricity_kwh' && f['x-klimaspejl'].aggregations.includes('sum')));
    const pkg = await client.dataPackage('energy-district-daily');
    assert.equal(pkg.resources[0].format, 'csv');
    const factors = await client.emissionFactors();
    assert.equal(factors.count, Number(sql('SELECT count(*) FROM api.emission_factors')));
    assert.deepEqual(await client.ready(), { status: 'ready', database: 'ok' });
});

test('a filtered, grouped query equals the same aggregation by psql on api.energy_district_daily', async () => {
    const page = await client.records('energy-district-daily', {
        filters: { district_id: 'in:1,2,3,4', day: [`gte:${fromDay}`, `lt:${toDay}`] },
        groupBy: ['district_id'],
        measures: ['sum:electricity_kwh', 'avg:heat_kwh', 'max:water_l', 'count'],
        order: '-district_id',
        limit: 100,
    });
    const rows = sqlRows(
        'SELECT district_id, sum(electricity_kwh), avg(heat_kwh), max(water_l), count(*) FROM api.energy_district_daily ' +
            `WHERE district_id IN (1,2,3,4) AND day >= '${fromDay}' AND day < '${toDay}' GROUP BY 1 ORDER BY 1 DESC`,
    );
    assert.equal(rows.length, 4);
    assert.equal(page.count, rows.length);
    assert.equal(page.next_cursor, null);
    page.data.forEach((d, i) => {
        const [id, sum, avg, max, count] = rows[i];
        assert.equal(d.district_id, Number(id));
        assert.ok(near(d.sum_electricity_kwh, sum), `district ${id}: sum ${d.sum_electricity_kwh} vs ${sum}`);
        assert.ok(near(d.avg_heat_kwh, avg), `district ${id}: avg ${d.avg_heat_kwh} vs ${avg}`);
        assert.ok(near(d.max_water_l, max), `district ${id}: max ${d.max_water_l} vs ${max}`);
        assert.equal(d.count, Number(count));
        assert.equal(d.cells, Number(count));
    });

    // monthly buckets (Copenhagen months) of one district
    const monthly = await client.records('energy-district-daily', {
        filters: { district_id: 2 },
        groupBy: 'district_id,day',
        bucket: 'month',
        measures: 'sum:electricity_kwh',
        limit: 100,
    });
    const months = sqlRows(
        "SELECT to_char(date_trunc('month', day), 'YYYY-MM-DD'), sum(electricity_kwh) FROM api.energy_district_daily " +
            'WHERE district_id = 2 GROUP BY 1 ORDER BY 1',
    );
    assert.deepEqual(monthly.data.map((d) => d.day), months.map((m) => m[0]));
    monthly.data.forEach((d, i) => assert.ok(near(d.sum_electricity_kwh, months[i][1]), `${d.day}: ${d.sum_electricity_kwh} vs ${months[i][1]}`));
});

test('recordsAll follows the cursors: every row exactly once across many small pages, in the SQL order', async () => {
    const query = { filters: { district_id: 'in:3,7', day: `gte:${fromDay}` }, order: ['-day'], limit: 7 };
    const before = wire.length;
    const keys = [];
    for await (const row of client.recordsAll('energy-district-daily', query)) keys.push(`${row.day}/${row.district_id}`);
    const pages = wire.slice(before).filter((w) => w.url.includes('/records?'));
    const expected = sqlRows(
        `SELECT day, district_id FROM api.energy_district_daily WHERE district_id IN (3,7) AND day >= '${fromDay}' ORDER BY day DESC, district_id`,
    ).map(([d, id]) => `${d}/${id}`);
    assert.ok(expected.length > 30, `enough rows for several pages (${expected.length})`);
    assert.equal(new Set(keys).size, keys.length, 'no row twice');
    assert.deepEqual(keys, expected, 'every row, in order');
    assert.equal(pages.length, Math.ceil(expected.length / 7), 'one request per page');
    assert.ok(pages.slice(1).every((p) => /[?&]cursor=/.test(p.url)), 'pages after the first carry the cursor');

    // aggregated paging, too: groups across pages equal one big page
    const groups = [];
    for await (const g of client.recordsAll('energy-district-daily', { groupBy: ['day'], measures: ['count'], filters: { day: `gte:${fromDay}` }, limit: 4 })) {
        groups.push(g);
    }
    const whole = await client.records('energy-district-daily', { groupBy: ['day'], measures: ['count'], filters: { day: `gte:${fromDay}` }, limit: 1000 });
    assert.deepEqual(groups, whole.data);
    // the pages one by one
    let n = 0;
    for await (const p of client.recordsPages('energy-district-daily', { ...query, limit: 20 })) n += p.count;
    assert.equal(n, expected.length);
});

test('ETag: the second identical GET sends If-None-Match, gets 304 and returns the same body', async () => {
    const q = { filters: { district_id: 5 }, order: '-day', limit: 3 };
    client.clearCache();
    const before = wire.length;
    const a = await client.records('energy-district-daily', q);
    const b = await client.records('energy-district-daily', q);
    const c2 = await client.emissionFactors();
    const d2 = await client.emissionFactors();
    const calls = wire.slice(before);
    assert.deepEqual(
        calls.map((w) => [w.status, Boolean(w.ifNoneMatch)]),
        [
            [200, false],
            [304, true],
            [200, false],
            [304, true],
        ],
    );
    assert.deepEqual(b, a);
    assert.deepEqual(d2, c2);
    assert.equal(b.data.length, 3);
    // the tag the client sent is the one the server gave
    const direct = await fetch(`${baseUrl}/v1/datasets/energy-district-daily/records?district_id=5&order=-day&limit=3`);
    assert.equal(calls[1].ifNoneMatch, direct.headers.get('etag'));
});

test('problems surface as KlimaspejlError with type, status, detail and the parameter name', async () => {
    const expectProblem = async (promise, status, kind, parameter) => {
        await assert.rejects(promise, (e) => {
            assert.ok(e instanceof KlimaspejlError, String(e));
            assert.equal(e.status, status);
            assert.equal(e.kind, kind);
            assert.equal(e.type, `/docs/problems#${kind}`);
            assert.equal(e.parameter, parameter);
            assert.ok(e.title && e.detail, 'title and detail');
            assert.ok(e.message.includes(e.detail));
            return true;
        });
    };
    await expectProblem(client.records('energy-district-daily', { filters: { district_id: 'eq:x' } }), 400, 'invalid-parameter', 'district_id');
    await expectProblem(client.records('energy-district-daily', { filters: { no_such_column: 1 } }), 400, 'invalid-parameter', 'no_such_column');
    await expectProblem(client.records('energy-district-daily', { limit: 0 }), 400, 'invalid-parameter', 'limit');
    await expectProblem(client.records('energy-district-daily', { measures: 'sum:district' }), 400, 'invalid-parameter', 'measures');
    await expectProblem(client.records('energy-district-daily', { cursor: 'bm90LWEtY3Vyc29y' }), 400, 'invalid-parameter', 'cursor');
    await expectProblem(client.records('no-such-dataset'), 404, 'not-found', undefined);
    await expectProblem(client.usage({ from: 'yesterday' }), 400, 'invalid-parameter', 'from');
    // a cursor from one query used with another query is refused, naming the cursor
    const p1 = await client.records('energy-district-daily', { limit: 2 });
    await expectProblem(client.records('energy-district-daily', { limit: 2, order: '-day', cursor: p1.next_cursor }), 400, 'invalid-parameter', 'cursor');
});

test('download streams the file (CSV with the SQL row count; NDJSON rows via downloadRows)', async () => {
    const stream = await client.download('energy-district-daily', { filters: { district_id: 4, day: `gte:${fromDay}` }, format: 'csv' });
    let text = '';
    const dec = new TextDecoder();
    for await (const chunk of stream) text += dec.decode(chunk, { stream: true });
    const lines = text.split('\n').filter(Boolean);
    const n = Number(sql(`SELECT count(*) FROM api.energy_district_daily WHERE district_id = 4 AND day >= '${fromDay}'`));
    assert.equal(lines.length, n + 1, 'header + one line per row');
    assert.match(lines[0], /^district_id,district,day,/);
    const rows = [];
    for await (const r of client.downloadRows('emission-factors', { order: 'factor_id' })) rows.push(r);
    assert.deepEqual(rows.map((r) => r.factor_id), sql('SELECT factor_id FROM api.emission_factors ORDER BY factor_id').split('\n'));
    await assert.rejects(client.download('energy-district-daily', { format: 'json' }), (e) => e instanceof KlimaspejlError && e.parameter === 'format');
});

test('feedback: the real rate limit answers 429 with Retry-After; the client waits it out and the retry is stored', { timeout: 60_000 }, async () => {
    const marker = `jsclient-${process.pid}-${Date.now()}`;
    const strict = new KlimaspejlClient({ baseUrl, maxRetries: 0 });
    // the burst allowance (5), then a refusal
    let refused;
    for (let i = 0; i < 8 && !refused; ++i) {
        try {
            const r = await strict.feedback({ topic: 'idea', rating: 4, message: `${marker} burst ${i}` });
            assert.equal(typeof r.id, 'number');
        } catch (e) {
            refused = e;
        }
    }
    assert.ok(refused instanceof KlimaspejlError, 'the burst ran into the limit');
    assert.equal(refused.status, 429);
    assert.equal(refused.kind, 'too-many-requests');
    assert.ok(refused.retryAfter >= 1 && refused.retryAfter <= 60, `Retry-After ${refused.retryAfter}`);

    const waits = [];
    const patient = new KlimaspejlClient({ baseUrl, maxRetries: 2, maxRetryDelay: 30, onRetry: (i) => waits.push(i) });
    const t0 = Date.now();
    const receipt = await patient.feedback({ topic: 'idea', rating: 5, message: `${marker} patient` });
    const waited = Date.now() - t0;
    assert.equal(typeof receipt.id, 'number');
    assert.ok(waits.length >= 1, 'the client was told to wait');
    assert.equal(waits[0].status, 429);
    assert.ok(waited >= (waits[0].waitSeconds - 1) * 1000, `waited ${waited} ms for Retry-After ${waits[0].waitSeconds}`);
    const stored = sql(`SELECT count(*) FROM core.feedback WHERE message = '${marker} patient'`);
    assert.equal(stored, '1', 'the retried message was stored once');
});
