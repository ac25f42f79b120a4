// researchers.test.mjs — what a researcher's tools need from the open-data API (issue 16): numbers a Danish
// spreadsheet reads exactly (decimal commas, read back by headless LibreOffice Calc in a Danish locale), Data Packages
// that validate against the official Frictionless profiles and read back through a Frictionless reader, and the small
// HTTP promises (keyset paging over NULLs, `between` listed, 304 with Cache-Control, one strong ETag per content
// coding, `Accept-Encoding: *`, offsets refused in `tz`, tab-separated downloads labelled as such).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';

import Ajv04 from 'ajv-draft-04';

import { assertCleanExit, request, startServer } from './harness.mjs';

const require = createRequire(import.meta.url);

// One HTTP/1.1 GET that keeps the body as bytes (for gzip). Resolves { status, headers, body (Buffer) }.
function getRaw(port, p, headers = {}) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: p, headers, agent: false, timeout: 20_000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`GET ${p}: no answer within 20 s`)));
        req.on('error', reject);
    });
}

async function json(port, p) {
    const r = await request(port, { path: p });
    assert.equal(r.status, 200, `${p}: ${r.body}`);
    return JSON.parse(r.body);
}

// Every row of a records query, page by page (limit per page), following next_cursor.
async function allPages(port, p, limit) {
    const rows = [];
    let cursor = null;
    for (let pages = 0; pages < 1000; ++pages) {
        const body = await json(port, `${p}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        rows.push(...body.data);
        if (!body.next_cursor) return rows;
        cursor = body.next_cursor;
    }
    throw new Error('more than 1000 pages');
}

// The float cells of a flat ODF spreadsheet (LibreOffice's .fods), row by row: [[value or null, ...], ...] with the
// number exactly as Calc stored it (office:value) and null for text cells.
function fodsNumbers(xml) {
    const rows = [];
    for (const row of xml.match(/<table:table-row\b[\s\S]*?<\/table:table-row>/g) || []) {
        const cells = [];
        for (const cell of row.match(/<table:table-cell\b[^>]*?(?:\/>|>[\s\S]*?<\/table:table-cell>)/g) || []) {
            const repeat = Number((cell.match(/table:number-columns-repeated="(\d+)"/) || [])[1] || 1);
            const v = cell.match(/office:value-type="float"[^>]*?office:value="([^"]*)"/) ||
                cell.match(/office:value="([^"]*)"[^>]*?office:value-type="float"/);
            for (let i = 0; i < Math.min(repeat, 64); ++i) cells.push(v ? v[1] : null);
        }
        rows.push(cells);
    }
    return rows;
}

// Converts each CSV file with headless LibreOffice Calc, importing it as a Danish user's Calc does (language 1030 =
// da-DK decides what a number is; separator ';', UTF-8), into flat ODF next to it. Returns the .fods texts in order.
function calcDanish(files) {
    const dir = path.dirname(files[0]);
    const r = spawnSync('soffice', [`-env:UserInstallation=file://${dir}/profile`, '--headless', '--norestore',
        '--infilter=CSV:59,34,76,1,,1030', '--convert-to', 'fods', '--outdir', dir, ...files], {
        encoding: 'utf8', timeout: 240_000, env: { ...process.env, LANG: 'da_DK.UTF-8', HOME: dir },
    });
    assert.equal(r.status, 0, `soffice failed: ${r.stderr || r.error}`);
    return files.map((f) => fs.readFileSync(f.replace(/\.csv$/, '.fods'), 'utf8'));
}

describe('researchers', () => {
    let srv;
    let tmp;
    before(async () => {
        srv = await startServer();
        // every worker has its catalog (a loaded machine can take longer than startServer waits)
        for (let i = 0; i < 300; ++i) {
            const r = await Promise.all([1, 2, 3, 4, 5, 6].map(() => request(srv.port, { path: '/v1/datasets' }).catch(() => ({ status: 0 }))));
            if (r.every((x) => x.status === 200)) break;
            await new Promise((res) => setTimeout(res, 100));
        }
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-researchers-'));
    });
    after(async () => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    test('decimal commas: delimiter=; writes them by default, decimal=. and decimal=, choose, a comma delimiter refuses them', async () => {
        const base = '/v1/datasets/waste-district-monthly';
        const want = (await json(srv.port, `${base}/records?district_id=eq:1&limit=10000`)).data;
        const csv = (await request(srv.port, { path: `${base}/download?district_id=eq:1&delimiter=;&bom=1` })).body;
        const [head, ...lines] = csv.replace(/^\uFEFF/, '').trim().split('\n');
        const cols = head.split(';');
        assert.equal(lines.length, want.length);
        lines.forEach((line, i) => {
            const f = line.split(';');
            for (const c of ['kg', 'kg_per_household']) {
                const v = f[cols.indexOf(c)];
                const j = want[i][c];
                if (j === null) assert.equal(v, '', `${c} of row ${i}`);
                else assert.ok(/^-?\d+(,\d+)?$/.test(v) && Number(v.replace(',', '.')) === j, `${c} of row ${i}: ${v} vs ${j}`);
            }
        });
        assert.ok(lines.some((l) => /;\d+,\d+;/.test(l)), 'some value has a decimal comma');
        const point = (await request(srv.port, { path: `${base}/download?district_id=eq:1&delimiter=;&decimal=.` })).body;
        assert.ok(!/;\d+,\d+;/.test(point) && /;\d+\.\d+;/.test(point), 'decimal=. keeps points');
        const page = await request(srv.port, { path: `${base}/records?format=csv&delimiter=;&limit=3` });
        assert.match(page.body, /;\d+,\d+;/, 'records CSV pages too');
        const bad = await request(srv.port, { path: `${base}/download?decimal=,` });
        assert.equal(bad.status, 400);
        assert.equal(JSON.parse(bad.body).parameter, 'decimal');
    });

    test('Danish LibreOffice Calc reads every number of a delimiter=; download exactly (and misreads decimal=. — the check can fail)', async () => {
        const base = '/v1/datasets/energy-district-daily';
        const q = 'district_id=in:1,2&day=lt:2100-01-01';
        const want = (await json(srv.port, `${base}/records?${q}&limit=10000`)).data;
        const comma = path.join(tmp, 'comma.csv');
        const point = path.join(tmp, 'point.csv');
        fs.writeFileSync(comma, (await getRaw(srv.port, `${base}/download?${q}&delimiter=;&bom=1`)).body);
        fs.writeFileSync(point, (await getRaw(srv.port, `${base}/download?${q}&delimiter=;&bom=1&decimal=.`)).body);
        const [good, wrong] = calcDanish([comma, point]).map(fodsNumbers);
        const header = fs.readFileSync(comma, 'utf8').replace(/^\uFEFF/, '').split('\n')[0].split(';');
        const numeric = header.filter((c) => want.length && typeof want[0][c] === 'number');
        assert.ok(numeric.includes('electricity_kwh') && numeric.includes('water_l_per_household'), numeric.join());
        let checked = 0;
        let misread = 0;
        want.forEach((row, i) => {
            for (const c of numeric) {
                const k = header.indexOf(c);
                if (row[c] === null) continue;
                assert.equal(Number(good[i + 1][k]), row[c], `Calc (da-DK) read ${c} of row ${i}: ${good[i + 1][k]}`);
                ++checked;
                if (!Number.isInteger(row[c]) && Number(wrong[i + 1]?.[k]) !== row[c]) ++misread;
            }
        });
        assert.ok(checked > 100, `checked ${checked} numbers`);
        assert.ok(misread > 0, 'with decimal points a Danish Calc misreads the decimals (the protection switched off)');
    });

    test('every datapackage.json validates against the official Frictionless profiles and reads back through a Frictionless reader', async () => {
        // the profiles as the frictionless datapackage-js package (pinned in tests/package.json) ships them
        const dir = path.join(path.dirname(require.resolve('datapackage/package.json')), 'lib/profiles');
        const profile = (n) => JSON.parse(fs.readFileSync(path.join(dir, `${n}.json`), 'utf8'));
        const ajv = new Ajv04({ allErrors: true, strict: false, logger: false });
        const validate = ajv.compile(profile('tabular-data-package'));
        const { Package } = require('datapackage');
        const list = await json(srv.port, '/v1/datasets');
        assert.ok(list.datasets.length >= 8);
        for (const d of list.datasets) {
            const pkg = await json(srv.port, `/v1/datasets/${d.id}/datapackage.json`);
            assert.ok(validate(pkg), `${d.id}: ${JSON.stringify(validate.errors)}`);
            for (const f of pkg.resources[0].schema.fields) assert.notEqual(f.format, 'local', `${d.id}.${f.name}`);
            pkg.resources[0].path = pkg.resources[0].path.replace(/^https?:\/\/[^/]+/, `http://127.0.0.1:${srv.port}`);
            const p = await Package.load(pkg);
            assert.ok(p.valid, `${d.id}: ${p.errors.map(String).join('; ')}`);
            const rows = await p.resources[0].read({ keyed: true, cast: true });
            const page = await json(srv.port, `/v1/datasets/${d.id}/records?limit=10000`);
            if (!page.next_cursor) assert.equal(rows.length, page.data.length, `${d.id}: rows read`);
            page.data.slice(0, 500).forEach((want, i) => {
                for (const [k, v] of Object.entries(want)) {
                    if (typeof v === 'number' || typeof v === 'boolean') assert.equal(rows[i][k], v, `${d.id} row ${i} ${k}`);
                    else if (v === null) assert.equal(rows[i][k], null, `${d.id} row ${i} ${k}`);
                }
            });
        }
    });

    test('keyset paging over a nullable order column returns every row once, NULLs last, in both directions', async () => {
        const all = (await json(srv.port, '/v1/datasets/emission-factors/records?limit=10000')).data;
        assert.ok(all.some((r) => r.valid_to === null) && all.some((r) => r.valid_to !== null));
        for (const order of ['valid_to', '-valid_to', 'valid_to,-factor_id']) {
            const rows = await allPages(srv.port, `/v1/datasets/emission-factors/records?order=${order}`, 5);
            assert.equal(rows.length, all.length, `order=${order}`);
            assert.equal(new Set(rows.map((r) => r.factor_id)).size, all.length, `order=${order}: no duplicates`);
            const firstNull = rows.findIndex((r) => r.valid_to === null);
            assert.ok(rows.slice(firstNull).every((r) => r.valid_to === null), `order=${order}: NULLs last`);
            const dates = rows.slice(0, firstNull).map((r) => r.valid_to);
            const sorted = [...dates].sort();
            assert.deepEqual(dates, order.startsWith('-') ? sorted.reverse() : sorted);
        }
    });

    test('between is listed wherever it is accepted', async () => {
        for (const d of (await json(srv.port, '/v1/datasets')).datasets) {
            const meta = await json(srv.port, `/v1/datasets/${d.id}`);
            for (const f of meta.schema.fields) {
                const ops = f['x-klimaspejl'].operators;
                assert.equal(ops.includes('between'), ops.includes('lte') && ops.includes('gte'), `${d.id}.${f.name}: ${ops}`);
            }
        }
        const r = await request(srv.port, { path: '/v1/datasets/energy-district-daily/records?district_id=between:2,3&limit=50' });
        assert.equal(r.status, 200, r.body);
        assert.ok(JSON.parse(r.body).data.every((x) => x.district_id >= 2 && x.district_id <= 3));
        const no = await request(srv.port, { path: '/v1/datasets/energy-district-daily/records?district=between:a,b' });
        assert.equal(no.status, 400);
    });

    test('304 carries Cache-Control; gzip and identity have distinct strong ETags, each revalidating to 304', async () => {
        for (const p of ['/v1/datasets/waste-district-monthly/records?limit=200', '/v1/datasets/waste-district-monthly/download',
            '/v1/datasets/waste-district-monthly/datapackage.json', '/v1/catalog.jsonld', '/v1/emission-factors']) {
            const plain = await getRaw(srv.port, p);
            const gz = await getRaw(srv.port, p, { 'accept-encoding': 'gzip' });
            assert.equal(plain.status, 200, p);
            assert.equal(plain.headers['content-encoding'], undefined, p);
            assert.match(plain.headers.etag, /^"[^"]+"$/, p);
            const tags = [[plain.headers.etag, 'identity']];
            if (!p.includes('jsonld')) { // h2o compresses what the handler marks compressible (JSON-LD is not)
                assert.equal(gz.headers['content-encoding'], 'gzip', p);
                assert.equal(gz.headers.etag, plain.headers.etag.replace(/"$/, '-gzip"'), `${p}: the gzip tag`);
                assert.deepEqual(zlib.gunzipSync(gz.body), plain.body, p);
                tags.push([gz.headers.etag, 'gzip']);
            }
            for (const [tag, enc] of tags) {
                const nm = await getRaw(srv.port, p, { 'if-none-match': tag, 'accept-encoding': enc });
                assert.equal(nm.status, 304, `${p} ${enc}`);
                assert.equal(nm.headers.etag, tag, `${p} ${enc}: the 304 names the tag the client holds`);
                assert.equal(nm.headers['cache-control'], plain.headers['cache-control'], `${p} ${enc}: Cache-Control on the 304`);
            }
            const other = await getRaw(srv.port, p, { 'if-none-match': plain.headers.etag.replace(/"$/, '-deflate"') });
            assert.equal(other.status, 200, `${p}: an unknown coding's tag does not match`);
        }
    });

    test('Accept-Encoding: * gets gzip; *;q=0 does not', async () => {
        const p = '/v1/datasets/waste-district-monthly/records?limit=300';
        const star = await getRaw(srv.port, p, { 'accept-encoding': '*' });
        assert.equal(star.headers['content-encoding'], 'gzip');
        assert.ok(zlib.gunzipSync(star.body).length > star.body.length);
        const none = await getRaw(srv.port, p, { 'accept-encoding': '*;q=0' });
        assert.equal(none.headers['content-encoding'], undefined);
        const brStar = await getRaw(srv.port, p, { 'accept-encoding': 'br;q=0.5, *;q=0.1' });
        assert.equal(brStar.headers['content-encoding'], 'gzip');
    });

    test('UTC offsets in tz are refused with a 400 naming tz; IANA names pass', async () => {
        for (const tz of ['%2B01', '-05', 'UTC%2B1', 'GMT-3', '1']) {
            const r = await request(srv.port, {
                path: `/v1/datasets/energy-district-hourly/records?group_by=hour_utc&bucket=day&limit=1&tz=${tz}`,
            });
            assert.equal(r.status, 400, `${tz}: ${r.body}`);
            const body = JSON.parse(r.body);
            assert.equal(body.parameter, 'tz');
            assert.match(body.detail, /IANA time zone name/);
        }
        for (const tz of ['Europe/Copenhagen', 'UTC', 'Etc/GMT-1', 'America/Port-au-Prince']) {
            const r = await request(srv.port, {
                path: `/v1/datasets/energy-district-hourly/records?group_by=hour_utc&bucket=day&limit=1&tz=${tz}`,
            });
            assert.equal(r.status, 200, `${tz}: ${r.body}`);
        }
    });

    test('coverage: monthly and daily rows say how much of their period has data; temporal coverage ends at the last data, also in DCAT', async () => {
        const now = Date.now();
        for (const id of ['energy-peergroup-monthly', 'waste-district-monthly', 'mobility-district-monthly', 'footprint-district-monthly']) {
            const meta = await json(srv.port, `/v1/datasets/${id}`);
            const names = meta.schema.fields.map((f) => f.name);
            for (const c of ['days_in_month', 'days_with_data', 'complete']) assert.ok(names.includes(c), `${id}.${c}`);
            const rows = (await json(srv.port, `/v1/datasets/${id}/records?limit=10000&order=month`)).data;
            for (const r of rows) {
                assert.ok(r.days_with_data >= 0 && r.days_with_data <= r.days_in_month, `${id} ${r.month}`);
                assert.equal(r.complete, r.days_with_data === r.days_in_month, `${id} ${r.month}`);
            }
            const last = rows[rows.length - 1];
            assert.equal(last.complete, false, `${id}: the current month is partial`);
            assert.ok(Date.parse(meta.temporal_end) <= now + 3600e3, `${id}: temporal_end ${meta.temporal_end} is not in the future`);
            assert.match(meta.temporal_end_local, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, `${id}: local time, no offset`);
            const local = new Date(meta.temporal_end).toLocaleString('sv-SE', { timeZone: 'Europe/Copenhagen' }).replace(' ', 'T');
            assert.equal(meta.temporal_end_local, local, `${id}: temporal_end_local is temporal_end in Copenhagen time`);
        }
        const daily = (await json(srv.port, '/v1/datasets/energy-district-daily/records?limit=10000&order=-day')).data;
        assert.ok(daily.every((r) => r.complete === (r.hours === r.hours_in_day) && [23, 24, 25].includes(r.hours_in_day)));
        assert.ok(daily.some((r) => !r.complete) && daily.some((r) => r.complete));
        const graph = (await json(srv.port, '/v1/catalog.jsonld'))['@graph'];
        const ends = graph.filter((n) => n['@type'] === 'dcat:Dataset' && n['dct:temporal']?.['dcat:endDate'])
            .map((n) => Date.parse(n['dct:temporal']['dcat:endDate']['@value']));
        assert.ok(ends.length >= 6 && ends.every((e) => e <= now + 3600e3), 'DCAT endDate is never in the future');
    });

    test('every value has at most its column\'s declared decimals in every format, and every worker sends the same bytes', async () => {
        for (const id of ['energy-district-daily', 'waste-district-monthly', 'grid-intensity-hourly', 'emission-factors']) {
            const meta = await json(srv.port, `/v1/datasets/${id}`);
            const scale = Object.fromEntries(meta.schema.fields.filter((f) => f.type === 'number')
                .map((f) => [f.name, f['x-klimaspejl'].scale]));
            const q = `/v1/datasets/${id}/records?limit=300`;
            const forms = {
                json: (b) => JSON.parse(b).data,
                ndjson: (b) => b.trim().split('\n').map((l) => JSON.parse(l)),
                csv: (b) => { const [h, ...r] = b.trim().split('\r\n'); const c = h.split(','); return r.map((l) => Object.fromEntries(l.split(',').map((v, i) => [c[i], v]))); },
            };
            if (meta.schema.fields.some((f) => f.name === 'district_id')) forms.geojson = (b) => JSON.parse(b).features.map((f) => f.properties);
            for (const [fmt, parse] of Object.entries(forms)) {
                const texts = new Set();
                for (let i = 0; i < 8; ++i) texts.add((await getRaw(srv.port, `${q}&format=${fmt}`)).body.toString('utf8'));
                assert.equal(texts.size, 1, `${id} ${fmt}: one body from every connection and worker`);
                // the decimals as sent (JSON numbers are checked in the text: JSON.parse would hide 0.1000000001)
                const text = [...texts][0];
                for (const [col, s] of Object.entries(scale)) {
                    const re = new RegExp(`"${col}":(-?\\d+(?:\\.(\\d+))?)`, 'g');
                    for (const m of fmt === 'csv' ? [] : text.matchAll(re)) assert.ok((m[2] || '').length <= s, `${id} ${fmt} ${col}=${m[1]} (scale ${s})`);
                }
                for (const row of parse(text)) {
                    for (const [col, s] of Object.entries(scale)) {
                        const v = row[col];
                        if (typeof v === 'string' && v !== '') assert.ok(((v.split('.')[1] || '').length) <= s, `${id} ${fmt} ${col}=${v}`);
                    }
                }
            }
        }
    });

    test('catalog search: every word in titles, descriptions, keywords or column names, either language, any case', async () => {
        const ids = async (q) => {
            const body = await json(srv.port, `/v1/datasets?q=${encodeURIComponent(q)}`);
            assert.equal(body.q, q);
            assert.equal(body.count, body.datasets.length);
            assert.ok(body.total >= body.count);
            return body.datasets.map((d) => d.id).sort();
        };
        const all = (await json(srv.port, '/v1/datasets')).datasets.map((d) => d.id);
        assert.ok((await ids('affald')).includes('waste-district-monthly'), 'Danish title');
        assert.deepEqual(await ids('WASTE'), await ids('waste'), 'any case');
        assert.ok((await ids('kg_per_household')).includes('waste-district-monthly'), 'a column name');
        assert.ok((await ids('HUSSTANDSSTØRRELSE')).includes('energy-peergroup-monthly'), 'Ø folds to ø');
        const both = await ids('energiforbrug husstandsstørrelse');
        assert.deepEqual(both, ['energy-peergroup-monthly'], 'every word must match');
        assert.ok((await ids('energiforbrug')).length > both.length);
        assert.deepEqual(await ids('zzzz-nothing'), []);
        assert.ok((await ids('  ')).length === all.length, 'blank: everything');
        for (const [p, param] of [[`q=${'x'.repeat(201)}`, 'q'], ['q=a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q', 'q'], ['search=x', 'search']]) {
            const r = await request(srv.port, { path: `/v1/datasets?${p}` });
            assert.equal(r.status, 400, p);
            assert.equal(JSON.parse(r.body).parameter, param, p);
        }
    });

    test('tab downloads are text/tab-separated-values (.tsv)', async () => {
        const r = await getRaw(srv.port, '/v1/datasets/waste-district-monthly/download?delimiter=tab');
        assert.equal(r.status, 200);
        assert.match(r.headers['content-type'], /^text\/tab-separated-values/);
        assert.match(r.headers['content-disposition'], /\.tsv"$/);
        assert.ok(r.body.toString('utf8').split('\n')[0].includes('\t'));
        const c = await getRaw(srv.port, '/v1/datasets/waste-district-monthly/download');
        assert.match(c.headers['content-type'], /^text\/csv/);
    });
});
