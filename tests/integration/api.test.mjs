// api.test.mjs — the open-data API against a real server and the migrated, seeded, refreshed test database: catalog,
// records (filters, grouping, measures, paging, formats), metadata (Data Package, DCAT-AP JSON-LD), emission factors,
// downloads; every error path with its `parameter`; ETag/304; HTTP/1.1 and h2c. Every JSON body is checked against
// api-spec/openapi.yaml. Aggregates are compared with the same computation done by psql on the api views.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';

import { SpecChecker, assertMatchesSpec } from './openapi-check.mjs';
import { DB_ADMIN_URL, DB_URL, h2request, psql, runCli, sleep, startServer } from './harness.mjs';

// One HTTP/1.1 request whose body is kept as bytes (the harness decodes to a string). Resolves { status, headers,
// bytes, body }.
function fetchBytes(port, p, headers = {}, method = 'GET') {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false, timeout: 30_000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const bytes = Buffer.concat(chunks);
                resolve({ status: res.statusCode, headers: res.headers, bytes, body: bytes.toString('utf8') });
            });
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${p}: no answer within 30 s`)));
        req.on('error', reject);
        req.end();
    });
}

function assertProblem(res, status, parameter) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json\b/);
    const p = JSON.parse(res.body);
    assert.equal(p.status, status);
    assert.equal(typeof p.detail, 'string');
    if (parameter !== undefined) assert.equal(p.parameter, parameter, `problem names parameter ${parameter}: ${res.body}`);
    return p;
}

// Waits until the server's catalog is loaded (the first database answer after start). Returns the last response.
async function waitCatalog(port, ms = 15_000) {
    const deadline = Date.now() + ms;
    let r;
    do {
        r = await fetchBytes(port, '/v1/datasets');
        if (r.status === 200) return r;
        await sleep(100);
    } while (Date.now() < deadline);
    return r;
}

const near = (a, b) => Math.abs(Number(a) - Number(b)) <= 1e-6 * Math.max(1, Math.abs(Number(a)), Math.abs(Number(b)));

describe('open-data API', () => {
    let srv;
    let port;
    let checker;
    // GET over HTTP/1.1, checked against the spec.
    const get = async (p, headers = {}) => {
        const r = await fetchBytes(port, p, headers);
        assertMatchesSpec(assert, checker, 'GET', p, r);
        return r;
    };
    const getJson = async (p, headers) => {
        const r = await get(p, headers);
        assert.equal(r.status, 200, `${p}: ${r.body.slice(0, 400)}`);
        return JSON.parse(r.body);
    };

    before(async () => {
        checker = new SpecChecker();
        srv = await startServer();
        port = srv.port;
        const r = await waitCatalog(port);
        assert.equal(r.status, 200, `the catalog did not load: ${r.body}`);
    });
    after(async () => {
        if (srv && srv.exited() === null) await srv.stop();
    });

    test('catalog and dataset metadata list every published view with its Table Schema', async () => {
        const list = await getJson('/v1/datasets');
        const ids = list.datasets.map((d) => d.id).sort();
        const inDb = psql(DB_ADMIN_URL, 'SELECT string_agg(id, \',\' ORDER BY id) FROM meta.datasets').split(',');
        assert.deepEqual(ids, inDb);
        assert.equal(list.count, ids.length);
        const da = await getJson('/v1/datasets?lang=da');
        assert.equal(da.lang, 'da');
        assert.equal(da.datasets.find((d) => d.id === 'emission-factors').title, 'Emissionsfaktorer');
        for (const id of ids) {
            const d = await getJson(`/v1/datasets/${id}`);
            assert.equal(d.id, id);
            assert.ok(d.schema.fields.length > 0);
        }
    });

    test('404 for an unknown dataset on every dataset route', async () => {
        for (const suffix of ['', '/records', '/datapackage.json', '/download']) {
            assertProblem(await get(`/v1/datasets/no-such-dataset${suffix}`), 404);
        }
    });

    test('400 invalid-parameter names the parameter at fault', async () => {
        const base = '/v1/datasets/energy-district-daily/records';
        const cases = [
            ['nosuch=1', 'nosuch'],
            ['district_id=abc', 'district_id'],
            ['district_id=like:3', 'district_id'],
            ['district=lt:Valby', 'district'],
            ['day=gte:2025-13-01', 'day'],
            ['day=2025-02-30', 'day'],
            ['measures=sum:district', 'measures'],
            ['measures=median:electricity_kwh', 'measures'],
            ['group_by=electricity_kwh', 'group_by'],
            ['order=nosuch', 'order'],
            ['limit=0', 'limit'],
            ['limit=10001', 'limit'],
            ['limit=ten', 'limit'],
            ['limit=5&limit=6', 'limit'],
            ['cursor=%21%21%21', 'cursor'],
            ['cursor=WzEsIngiLFtdXQ', 'cursor'],
            ['bucket=decade&group_by=day', 'bucket'],
            ['bucket=day', 'bucket'],
            ['tz=..%2Fetc', 'tz'],
            ['format=xml', 'format'],
            ['delimiter=%7C', 'delimiter'],
            ['bom=2', 'bom'],
        ];
        for (const [qs, param] of cases) {
            const r = await get(`${base}?${qs}`);
            const p = assertProblem(r, 400, param);
            assert.equal(p.type, '/docs/problems#invalid-parameter', `${qs}: ${r.body}`);
        }
        // an unknown IANA zone is caught in C (against pg_timezone_names) and reported as the tz parameter
        const tz = await get(`${base}?group_by=day_start_utc&bucket=month&tz=Mars%2FOlympus`);
        assertProblem(tz, 400, 'tz');
        // downloads refuse the paging and aggregation parameters
        for (const [qs, param] of [['limit=5', 'limit'], ['group_by=district_id', 'group_by'], ['format=geojson', 'format']]) {
            assertProblem(await get(`/v1/datasets/energy-district-daily/download?${qs}`), 400, param);
        }
    });

    test('cursor paging returns every row exactly once (rows and aggregates)', async () => {
        for (const q of [
            '/v1/datasets/energy-district-daily/records?district_id=in:1,2,3&order=-day',
            '/v1/datasets/waste-district-monthly/records?group_by=district_id,fraction&measures=sum:kg',
        ]) {
            const whole = await getJson(`${q}&limit=10000`);
            assert.equal(whole.next_cursor, null);
            assert.ok(whole.count > 20, `${q}: ${whole.count} rows`);
            const seen = [];
            let next = `${q}&limit=7`;
            let pages = 0;
            while (next) {
                const r = await get(next);
                assert.equal(r.status, 200, r.body);
                const page = JSON.parse(r.body);
                seen.push(...page.data);
                pages += 1;
                if (page.next_cursor) {
                    assert.equal(r.headers['x-next-cursor'], page.next_cursor);
                    assert.match(String(r.headers.link), /rel="next"/);
                    next = page.links.next;
                } else {
                    next = null;
                }
                assert.ok(pages < 1000);
            }
            assert.equal(seen.length, whole.data.length, 'no row missed or duplicated');
            assert.deepEqual(seen, whole.data, 'pages concatenated equal one big page, in order');
        }
    });

    test('group_by + measures equal the same aggregation done by psql on the api view', async () => {
        const body = await getJson(
            '/v1/datasets/energy-district-daily/records?group_by=district_id&measures=sum:electricity_kwh,max:heat_kwh,count' +
                '&day=gte:1900-01-01&limit=100',
        );
        const rows = psql(
            DB_ADMIN_URL,
            'SELECT district_id, sum(electricity_kwh), max(heat_kwh), count(*) FROM api.energy_district_daily ' +
                'GROUP BY 1 ORDER BY 1',
        )
            .split('\n')
            .map((l) => l.split('|'));
        assert.equal(body.data.length, rows.length);
        body.data.forEach((d, i) => {
            const [id, sum, max, count] = rows[i];
            assert.equal(d.district_id, Number(id));
            assert.ok(near(d.sum_electricity_kwh, sum), `district ${id}: ${d.sum_electricity_kwh} vs ${sum}`);
            assert.ok(near(d.max_heat_kwh, max), `district ${id}: ${d.max_heat_kwh} vs ${max}`);
            assert.equal(d.count, Number(count));
            assert.equal(d.cells, Number(count));
        });
        // a filtered, ordered row query against psql
        const f = await getJson('/v1/datasets/energy-district-daily/records?district=eq:N%C3%B8rrebro&order=-day&limit=5');
        const days = psql(
            DB_ADMIN_URL,
            "SELECT day FROM api.energy_district_daily WHERE district = 'Nørrebro' ORDER BY day DESC LIMIT 5",
        ).split('\n');
        assert.deepEqual(f.data.map((d) => d.day), days);
    });

    test('ETag / If-None-Match gives 304 on records and metadata routes', async () => {
        for (const p of [
            '/v1/datasets/energy-district-daily/records?limit=3',
            '/v1/datasets/energy-district-daily/datapackage.json',
            '/v1/catalog.jsonld',
            '/v1/emission-factors',
        ]) {
            const r = await get(p);
            assert.equal(r.status, 200);
            const etag = r.headers.etag;
            assert.match(String(etag), /^"[^"]+"$/, `${p}: strong ETag`);
            assert.match(String(r.headers['cache-control']), /^public, max-age=\d+$/);
            const again = await get(p, { 'if-none-match': etag });
            assert.equal(again.status, 304, `${p}: ${again.body}`);
            assert.equal(again.bytes.length, 0);
            const other = await get(p, { 'if-none-match': '"0-0000000000000000"' });
            assert.equal(other.status, 200);
        }
    });

    test('CSV with delimiter=; and bom=1, NDJSON line count, GeoJSON FeatureCollection', async () => {
        const base = '/v1/datasets/energy-district-daily/records?limit=25';
        const json = await getJson(base);
        const csv = await get(`${base}&format=csv&delimiter=%3B&bom=1`);
        assert.equal(csv.status, 200);
        assert.match(String(csv.headers['content-type']), /^text\/csv/);
        assert.deepEqual([...csv.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
        const lines = csv.bytes.subarray(3).toString('utf8').split('\r\n').filter(Boolean);
        assert.equal(lines.length, json.count + 1, 'header + one line per row');
        assert.equal(lines[0], Object.keys(json.data[0]).join(';'));
        const plain = await get(`${base}&format=csv`);
        assert.notEqual(plain.bytes[0], 0xef, 'no BOM unless asked');
        const nd = await get(`${base}&format=ndjson`);
        assert.match(String(nd.headers['content-type']), /^application\/x-ndjson/);
        const ndLines = nd.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
        assert.equal(ndLines.length, json.count);
        assert.deepEqual(ndLines, json.data);
        const geo = await get(`${base}&format=geojson`);
        assert.match(String(geo.headers['content-type']), /^application\/geo\+json/);
        const fc = JSON.parse(geo.body);
        assert.equal(fc.type, 'FeatureCollection');
        assert.equal(fc.features.length, json.count);
        for (const f of fc.features) {
            assert.equal(f.type, 'Feature');
            assert.equal(f.geometry.type, 'Point');
            assert.ok(f.geometry.coordinates[0] > 12 && f.geometry.coordinates[0] < 13, 'longitude in Copenhagen');
            assert.ok(f.geometry.coordinates[1] > 55 && f.geometry.coordinates[1] < 56, 'latitude in Copenhagen');
        }
        assert.deepEqual(fc.features.map((f) => f.properties), json.data);
    });

    test('Data Package: one tabular resource at the absolute CSV download URL, with the Table Schema', async () => {
        const dp = await getJson('/v1/datasets/energy-district-daily/datapackage.json', { host: 'data.example.dk' });
        assert.equal(dp.profile, 'tabular-data-package');
        assert.equal(dp.resources.length, 1);
        assert.equal(dp.resources[0].path, 'http://data.example.dk/v1/datasets/energy-district-daily/download?format=csv');
        const meta = await getJson('/v1/datasets/energy-district-daily');
        assert.deepEqual(dp.resources[0].schema, meta.schema);
        assert.equal(dp.version, String(meta.version));
        assert.equal(dp.licenses[0].name, 'CC-BY-4.0');
        const da = await getJson('/v1/datasets/energy-district-daily/datapackage.json?lang=da');
        assert.equal(da.title, meta.title_da);
        // a Host header that is not a host name never reaches the document
        const bad = await getJson('/v1/datasets/energy-district-daily/datapackage.json', { host: 'evil"><x' });
        assert.match(bad.resources[0].path, /^http:\/\/localhost\//);
    });

    test('DCAT-AP JSON-LD: catalog, one dcat:Dataset and one schema:Dataset per dataset, and the API DataService', async () => {
        const r = await get('/v1/catalog.jsonld', { host: 'data.example.dk' });
        assert.match(String(r.headers['content-type']), /^application\/ld\+json/);
        const doc = JSON.parse(r.body);
        const ids = (await getJson('/v1/datasets')).datasets.map((d) => d.id);
        const byType = (t) => doc['@graph'].filter((n) => n['@type'] === t);
        const [catalog] = byType('dcat:Catalog');
        assert.equal(catalog['dcat:dataset'].length, ids.length);
        const datasets = byType('dcat:Dataset');
        assert.equal(datasets.length, ids.length);
        assert.equal(byType('schema:Dataset').length, ids.length);
        for (const d of datasets) {
            assert.deepEqual(d['dct:title'].map((t) => t['@language']).sort(), ['da', 'en']);
            assert.ok(d['dct:license']['@id'].startsWith('https://'));
            assert.ok(d['dcat:theme'][0]['@id'].includes('/data-theme/'));
            assert.ok(d['dct:accrualPeriodicity']['@id'].includes('/frequency/'));
            assert.ok(d['dct:temporal'] && d['dct:spatial'].length > 0);
            const urls = d['dcat:distribution'].map((x) => x['dcat:downloadURL']?.['@id']).filter(Boolean);
            assert.deepEqual(urls, [
                `http://data.example.dk/v1/datasets/${d['dct:identifier']}/download?format=csv`,
                `http://data.example.dk/v1/datasets/${d['dct:identifier']}/download?format=ndjson`,
                `http://data.example.dk/v1/datasets/${d['dct:identifier']}/download?format=xlsx`,
            ]);
            assert.ok(d['dcat:distribution'].some((x) => x['dcat:accessService']));
        }
        const [service] = byType('dcat:DataService');
        assert.equal(service['dcat:endpointDescription']['@id'], 'http://data.example.dk/openapi.json');
        assert.equal(service['dcat:servesDataset'].length, ids.length);
    });

    test('emission factors: every row of the view, with source, unit, validity and assumption flag; da/en labels', async () => {
        const en = await getJson('/v1/emission-factors');
        const n = Number(psql(DB_ADMIN_URL, 'SELECT count(*) FROM api.emission_factors'));
        assert.equal(en.count, n);
        assert.equal(en.factors.length, n);
        const assumptions = Number(psql(DB_ADMIN_URL, 'SELECT count(*) FROM api.emission_factors WHERE is_assumption'));
        assert.equal(en.factors.filter((f) => f.is_assumption).length, assumptions);
        const da = await getJson('/v1/emission-factors?lang=da');
        assert.equal(da.lang, 'da');
        const el = da.factors.find((f) => f.category === 'electricity');
        assert.equal(el.category_label, 'El');
        assert.equal(en.factors.find((f) => f.category === 'electricity').category_label, 'Electricity');
    });

    test('download: CSV rows = count(*), NDJSON lines parse, gzip decompresses to the same bytes, HEAD', async () => {
        const id = 'energy-district-daily';
        const count = Number(psql(DB_ADMIN_URL, `SELECT count(*) FROM api.energy_district_daily`));
        const csv = await get(`/v1/datasets/${id}/download?format=csv`);
        assert.equal(csv.status, 200, csv.body.slice(0, 300));
        assert.match(String(csv.headers['content-disposition']), /^attachment; filename="energy-district-daily-v\d+\.csv"$/);
        assert.ok(csv.headers.etag);
        const lines = csv.body.split(/\r?\n/).filter(Boolean);
        assert.equal(lines.length, count + 1);
        const nd = await get(`/v1/datasets/${id}/download?format=ndjson`);
        const objs = nd.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
        assert.equal(objs.length, count);
        const gz = await fetchBytes(port, `/v1/datasets/${id}/download?format=csv`, { 'accept-encoding': 'gzip' });
        assert.equal(gz.status, 200);
        if (gz.headers['content-encoding'] === 'gzip') assert.deepEqual(zlib.gunzipSync(gz.bytes), csv.bytes);
        else assert.deepEqual(gz.bytes, csv.bytes);
        const semi = await get(`/v1/datasets/${id}/download?delimiter=%3B&bom=1&district_id=eq:1`);
        assert.deepEqual([...semi.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
        assert.ok(semi.bytes.subarray(3).toString('utf8').split('\n')[0].includes(';'));
        const head = await fetchBytes(port, `/v1/datasets/${id}/download?format=csv`, {}, 'HEAD');
        assert.equal(head.status, 200);
        assert.equal(head.bytes.length, 0);
        assert.equal(head.headers['content-disposition'], csv.headers['content-disposition']);
    });

    test('HTTP/1.1 and h2c give the same answers for a sample of routes', async () => {
        for (const p of [
            '/v1/datasets',
            '/v1/datasets/grid-intensity-hourly',
            '/v1/datasets/grid-intensity-hourly/records?limit=5&order=-hour_utc',
            '/v1/datasets/grid-intensity-hourly/datapackage.json',
            '/v1/catalog.jsonld',
            '/v1/emission-factors?lang=da',
            '/v1/datasets/grid-intensity-hourly/records?limit=0',
        ]) {
            const a = await get(p);
            const b = await h2request(port, { path: p });
            assertMatchesSpec(assert, checker, 'GET', p, b);
            assert.equal(b.status, a.status, p);
            assert.equal(b.headers['content-type'], a.headers['content-type'], p);
            assert.equal(b.headers.etag, a.headers.etag, p);
            if (!p.includes('jsonld') && !p.includes('datapackage')) assert.deepEqual(JSON.parse(b.body), JSON.parse(a.body), p);
        }
    });

    test('a cursor of an older version gets 410 Gone naming the cursor', async () => {
        // (a release that changes the rows gives a new version: tests/integration/release.test.mjs; here the dataset's
        // version is bumped by hand and announced as a release would, and put back afterwards. Cursors are signed by the
        // server, so an old one cannot be made by editing a new one: that is a 400, below.)
        const id = 'emission-factors';
        const first = await getJson(`/v1/datasets/${id}/records?limit=2`);
        assert.ok(first.next_cursor);
        const [body] = first.next_cursor.split('.');
        const json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
        assert.ok(Array.isArray(json) && Number.isInteger(json[0]), `cursor starts with the version: ${JSON.stringify(json)}`);
        json[0] -= 1;
        const edited = `${Buffer.from(JSON.stringify(json)).toString('base64url')}.${first.next_cursor.split('.')[1]}`;
        assertProblem(await get(`/v1/datasets/${id}/records?limit=2&cursor=${edited}`), 400, 'cursor');
        const announce = (delta) =>
            psql(DB_ADMIN_URL, `WITH u AS (UPDATE meta.datasets SET version = version + (${delta}) WHERE id = '${id}' RETURNING version)
                                SELECT pg_notify('klima_dataset_refreshed', '${id} ' || version) FROM u`);
        announce(1);
        try {
            let gone;
            for (let i = 0; i < 40; ++i) {
                gone = await get(`/v1/datasets/${id}/records?limit=2&cursor=${first.next_cursor}`);
                if (gone.status === 410) break;
                await sleep(50);
            }
            const p = assertProblem(gone, 410, 'cursor');
            assert.equal(p.type, '/docs/problems#gone');
        } finally {
            announce(-1);
        }
    });
});

describe('open-data API under limits', () => {
    test('a statement timeout is 503 database-timeout with Retry-After, on records and downloads alike', async () => {
        const checker = new SpecChecker();
        const p =
            '/v1/datasets/energy-district-hourly/records?group_by=hour_utc,district&bucket=day&tz=Europe%2FCopenhagen' +
            '&measures=sum:electricity_wh,avg:heat_wh,max:water_l,min:heat_wh_per_household&limit=10000';
        // 5 ms protects the database from the big aggregation; the catalog (~10-30 ms here) and the time zone names
        // (~50 ms), cheap metadata, load under their own 30 s on every worker all the same
        const srv = await startServer({ env: { KLIMA_STATEMENT_TIMEOUT_MS: '5' } });
        try {
            assert.equal((await waitCatalog(srv.port, 5_000)).status, 200, 'the catalog loads under a 5 ms statement timeout');
            // one worker answering first says nothing of the other: ask on 8 connections until all answer, within 10 s
            let all;
            for (const deadline = Date.now() + 10_000; ; await sleep(100)) {
                all = await Promise.all(Array.from({ length: 8 }, () => fetchBytes(srv.port, '/v1/datasets')));
                if (all.every((r) => r.status === 200) || Date.now() > deadline) break;
            }
            assert.deepEqual(all.map((r) => r.status), Array(8).fill(200), 'every worker has its catalog');
            // the time zone list (pg_timezone_names, ~150 ms) loads too: an unknown zone is a 400 naming tz, not 503
            let bad;
            for (const t0 = Date.now(); Date.now() - t0 < 5000; await sleep(100)) {
                bad = await fetchBytes(srv.port, '/v1/datasets/energy-district-hourly/records?group_by=hour_utc&measures=count&bucket=day&limit=1&tz=Foo%2FBar');
                if (bad.status !== 503) break;
            }
            assert.equal(assertProblem(bad, 400, 'tz').status, 400);
            // a known zone passes the check (the query itself may still meet the 5 ms: then database-timeout, never
            // "not loaded yet")
            const good = await fetchBytes(srv.port, '/v1/datasets/energy-district-hourly/records?group_by=hour_utc&measures=count&bucket=day&limit=1&tz=America%2FNew_York');
            assert.ok(good.status === 200 || (good.status === 503 && /database-timeout/.test(good.body)), good.body);
            const r = await fetchBytes(srv.port, p);
            assertMatchesSpec(assert, checker, 'GET', p, r);
            const prob = assertProblem(r, 503);
            assert.equal(prob.type, '/docs/problems#database-timeout');
            assert.match(prob.detail, /Narrow it/);
            assert.match(String(r.headers['retry-after']), /^[1-9][0-9]*$/);
        } finally {
            await srv.stop();
        }
        // a download's COPY runs under KLIMA_DOWNLOAD_TIMEOUT_MS: stopped before its first byte, the same answer
        const dsrv = await startServer({ env: { KLIMA_DOWNLOAD_TIMEOUT_MS: '1' } });
        try {
            const d = '/v1/datasets/energy-district-hourly/download?format=csv';
            const r = await fetchBytes(dsrv.port, d);
            assertMatchesSpec(assert, checker, 'GET', d, r);
            const prob = assertProblem(r, 503);
            assert.equal(prob.type, '/docs/problems#database-timeout');
            assert.match(String(r.headers['retry-after']), /^[1-9][0-9]*$/);
        } finally {
            await dsrv.stop();
        }
    });

    test('503 with Retry-After when the database cannot be reached', async () => {
        const checker = new SpecChecker();
        const srv = await startServer({ dbUrl: 'host=/nonexistent port=1 dbname=nothing user=klima_api connect_timeout=1' });
        try {
            for (const p of ['/v1/datasets', '/v1/datasets/x/records', '/v1/catalog.jsonld', '/v1/emission-factors']) {
                const r = await fetchBytes(srv.port, p);
                assertMatchesSpec(assert, checker, 'GET', p, r);
                assertProblem(r, 503);
                assert.match(String(r.headers['retry-after']), /^\d+$/);
            }
        } finally {
            await srv.stop();
        }
    });
});
