// xlsx.test.mjs — format=xlsx (issue 16): the workbook LibreOffice Calc reads back holds every value of the records
// API exactly (numbers as numbers with their declared decimals, dates and hours as dates, booleans, NULL as an empty
// cell and never 0), read in a Danish and an English locale; row 1 holds the Table Schema's field names and the
// `fields` sheet each field's unit and descriptions; the licence, version and source URL are document properties; a
// records page continues with the same cursor as its JSON twin; one release gives the same bytes under one ETag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, request, startServer } from './harness.mjs';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

// One HTTP/1.1 request that keeps the body as bytes. Resolves { status, headers, body (Buffer) }.
function getRaw(port, p, { method = 'GET', headers = {} } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false, timeout: 60_000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`GET ${p}: no answer within 60 s`)));
        req.on('error', reject);
        req.end();
    });
}

async function json(port, p) {
    const r = await request(port, { path: p });
    assert.equal(r.status, 200, `${p}: ${r.body}`);
    return JSON.parse(r.body);
}

// Every row of a records query (JSON), following next_cursor.
async function allRows(port, p) {
    const rows = [];
    let cursor = null;
    for (let pages = 0; pages < 200; ++pages) {
        const body = await json(port, `${p}&limit=10000${cursor ? `&cursor=${cursor}` : ''}`);
        rows.push(...body.data);
        if (!body.next_cursor) return rows;
        cursor = body.next_cursor;
    }
    throw new Error('more than 200 pages');
}

const unescapeXml = (s) =>
    s.replace(/<text:s(?: text:c="(\d+)")?\/>/g, (_, n) => ' '.repeat(Number(n || 1)))
        .replace(/<[^>]+>/g, '')
        .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

// The sheets of a flat ODF spreadsheet (.fods) as { name: [[cell, ...], ...] }, a cell being null (empty) or
// { type, value, text }: `value` is what Calc stored (office:value, office:date-value, office:boolean-value).
function fodsSheets(xml) {
    const sheets = {};
    for (const [, name, body] of xml.matchAll(/<table:table table:name="([^"]*)"[^>]*>([\s\S]*?)<\/table:table>/g)) {
        const rows = [];
        for (const row of body.match(/<table:table-row\b[^>]*?(?:\/>|>[\s\S]*?<\/table:table-row>)/g) || []) {
            const rrep = Math.min(Number((row.match(/^<table:table-row[^>]*table:number-rows-repeated="(\d+)"/) || [])[1] || 1), 2);
            const cells = [];
            for (const cell of row.match(/<table:(?:covered-)?table-cell\b[^>]*?(?:\/>|>[\s\S]*?<\/table:(?:covered-)?table-cell>)/g) || []) {
                const crep = Math.min(Number((cell.match(/table:number-columns-repeated="(\d+)"/) || [])[1] || 1), 64);
                const type = (cell.match(/office:value-type="([^"]+)"/) || [])[1];
                const value = (cell.match(/office:(?:date-|boolean-)?value="([^"]*)"/) || [])[1];
                const text = unescapeXml((cell.match(/<text:p>([\s\S]*?)<\/text:p>/) || [])[1] || '');
                for (let i = 0; i < crep; ++i) cells.push(type ? { type, value, text } : null);
            }
            for (let i = 0; i < rrep; ++i) rows.push(cells);
        }
        sheets[name] = rows;
    }
    return sheets;
}

// Converts file (an .xlsx) with headless LibreOffice Calc in the given locale: to flat ODF (every sheet, the stored
// values) and to CSV (the first sheet as shown: comma-separated, UTF-8). Returns { fods, csv }.
function calc(file, locale) {
    const dir = fs.mkdtempSync(path.join(path.dirname(file), `calc-${locale}-`));
    // the profile's locale setting, so the locale does not hang on which system locales are generated
    fs.mkdirSync(path.join(dir, 'profile/user'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'profile/user/registrymodifications.xcu'), `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>${locale.replace('_', '-')}</value></prop></item>
</oor:items>
`);
    const run = (filter) => {
        const r = spawnSync('soffice', [`-env:UserInstallation=file://${dir}/profile`, '--headless', '--norestore',
            '--convert-to', filter, '--outdir', dir, file], {
            encoding: 'utf8', timeout: 240_000, env: { ...process.env, LANG: `${locale}.UTF-8`, HOME: dir },
        });
        assert.equal(r.status, 0, `soffice (${locale}, ${filter}) failed: ${r.stderr || r.error}`);
    };
    run('fods');
    run('csv:Text - txt - csv (StarCalc):44,34,76');
    const base = path.join(dir, path.basename(file, '.xlsx'));
    return { fods: fs.readFileSync(`${base}.fods`, 'utf8'), csv: fs.readFileSync(`${base}.csv`, 'utf8') };
}

// A CSV (RFC 4180, as Calc writes it) as rows of strings.
function parseCsv(text) {
    const rows = [];
    let row = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < text.length; ++i) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') { field += '"'; ++i; } else if (c === '"') quoted = false; else field += c;
        } else if (c === '"') quoted = true;
        else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else if (c !== '\r') field += c;
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    return rows;
}

// The parts of an .xlsx (a zip) named, as text: read with Python's zipfile (python3 is on every machine tests/run sets up).
function zipTexts(file, names) {
    const r = spawnSync('python3', ['-c', 'import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps({n: z.read(n).decode() for n in sys.argv[2:]}))', file, ...names], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
}

// "2025-10-28T01:00:00Z" / "2025-10-28T01:00:00" / "2025-10-28" as Calc shows them, and the second they name (Calc
// stores midnight as a bare date and may carry a date serial's last binary digit as a fraction of a millisecond).
const shownDate = (v) => v.replace(/Z$/, '').replace('T', ' ');
const second = (v) => Math.round(Date.parse(`${v.replace(/Z$/, '')}${v.length > 10 ? '' : 'T00:00:00'}Z`) / 1000);

// Every mismatch between the records API's rows and a workbook's data sheet, read back by Calc: stored values (fods)
// and shown text (csv, with the locale's decimal separator). An empty list means every value came back exactly.
function mismatches(want, fields, sheet, shown, decimal) {
    const out = [];
    const names = fields.map((f) => f.name);
    assert.deepEqual(sheet[0].slice(0, names.length).map((c) => c && c.text), names, 'row 1: the field names');
    assert.deepEqual(shown[0].slice(0, names.length), names);
    want.forEach((row, i) => {
        const cells = sheet[i + 1] || [];
        const texts = shown[i + 1] || [];
        fields.forEach((f, k) => {
            const v = row[f.name];
            const cell = cells[k] || null;
            const text = texts[k] ?? '';
            const say = (what) => out.push(`${f.name} of row ${i}: ${what} (want ${JSON.stringify(v)})`);
            if (v === null) {
                if (cell !== null || text !== '') say(`not empty: ${JSON.stringify(cell)} / "${text}"`);
            } else if (f.type === 'number' || f.type === 'integer') {
                if (!cell || cell.type !== 'float' || Number(cell.value) !== v) say(`stored ${JSON.stringify(cell)}`);
                const decimals = f.type === 'integer' ? 0 : f['x-klimaspejl']?.scale ?? 0;
                if (text !== v.toFixed(decimals).replace('.', decimal)) say(`shown "${text}"`);
            } else if (f.type === 'date' || f.type === 'datetime') {
                if (!cell || cell.type !== 'date' || second(cell.value) !== second(v)) say(`stored ${JSON.stringify(cell)}`);
                if (text !== shownDate(v) && !(f.type === 'date' && text === v)) say(`shown "${text}"`);
            } else if (f.type === 'boolean') {
                // Calc keeps a boolean as 1 or 0 with a boolean format, shown TRUE/FALSE (SAND/FALSK in Danish)
                const stored = cell && (cell.type === 'boolean' ? cell.value === String(v) : cell.type === 'float' && Number(cell.value) === (v ? 1 : 0));
                if (!stored) say(`stored ${JSON.stringify(cell)}`);
                if (!(v ? ['TRUE', 'SAND'] : ['FALSE', 'FALSK']).includes(text.toUpperCase())) say(`shown "${text}"`);
            } else if (!cell || cell.type !== 'string' || cell.text !== v || text !== v) say(`stored ${JSON.stringify(cell)}, shown "${text}"`);
        });
    });
    if (sheet.length > want.length + 1 && (sheet[want.length + 1] || []).some((c) => c !== null)) out.push(`more rows than ${want.length}`);
    return out;
}

describe('xlsx', () => {
    let srv;
    let tmp;
    before(async () => {
        srv = await startServer();
        for (let i = 0; i < 300; ++i) {
            const r = await Promise.all([1, 2, 3, 4].map(() => request(srv.port, { path: '/v1/datasets' }).catch(() => ({ status: 0 }))));
            if (r.every((x) => x.status === 200)) break;
            await new Promise((res) => setTimeout(res, 100));
        }
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-xlsx-'));
    });
    after(async () => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    // The download, the rows it must hold, Calc's reading in each locale (by default Danish and English).
    async function readBack(id, q, locales = ['da_DK', 'en_US']) {
        const meta = await json(srv.port, `/v1/datasets/${id}`);
        const want = await allRows(srv.port, `/v1/datasets/${id}/records?${q}`);
        const r = await getRaw(srv.port, `/v1/datasets/${id}/download?${q}&format=xlsx`);
        assert.equal(r.status, 200, r.body.toString());
        assert.equal(r.headers['content-type'], XLSX);
        assert.match(r.headers['content-disposition'], new RegExp(`filename="${id}-v\\d+\\.xlsx"`));
        assert.equal(r.headers['content-encoding'], undefined, 'a zip is not compressed again');
        const file = path.join(tmp, `${id}-${crypto.randomBytes(4).toString('hex')}.xlsx`);
        fs.writeFileSync(file, r.body);
        const out = { meta, want, file, response: r };
        for (const l of locales) out[l] = calc(file, l);
        out.da = out.da_DK;
        out.en = out.en_US;
        return out;
    }

    test('a suppressed-cells dataset read back by LibreOffice in Danish and English: every value exact, NULL an empty cell and never 0', async () => {
        const { meta, want, da, en } = await readBack('waste-district-monthly', 'district_id=in:1,2,3,4,5,6,7,8,9,10');
        const fields = meta.schema.fields;
        assert.ok(want.length > 500, `${want.length} rows`);
        assert.ok(want.some((r) => r.kg === null), 'some cells are suppressed (null)');
        assert.ok(want.some((r) => r.kg_per_household !== null && !Number.isInteger(r.kg_per_household)), 'some decimals');
        assert.ok(fields.some((f) => f.type === 'datetime') && fields.some((f) => f.type === 'boolean'), 'times and flags too');
        const daSheet = fodsSheets(da.fods).data;
        const daShown = parseCsv(da.csv);
        assert.deepEqual(mismatches(want, fields, daSheet, daShown, ','), []);
        assert.deepEqual(mismatches(want, fields, fodsSheets(en.fods).data, parseCsv(en.csv), '.'), []);
        // the check can fail: a planted 0 for a suppressed value is caught, and so is a decimal point where Danish
        // Calc shows a comma
        const planted = want.map((r) => ({ ...r }));
        const i = planted.findIndex((r) => r.kg === null);
        planted[i].kg = 0;
        assert.ok(mismatches(planted, fields, daSheet, daShown, ',').some((m) => m.startsWith(`kg of row ${i}:`)));
        assert.ok(mismatches(want, fields, daSheet, daShown, '.').length > 0, 'Danish Calc shows decimal commas');
    });

    test('dates and hours come back as dates: a daily dataset (Danish) and an hourly one (English); the fields and about sheets', async () => {
        const daily = await readBack('energy-district-daily', 'district_id=in:1,2', ['da_DK']);
        const sheets = fodsSheets(daily.da_DK.fods);
        const fields = daily.meta.schema.fields;
        assert.ok(fields.some((f) => f.type === 'date'));
        assert.deepEqual(mismatches(daily.want, fields, sheets.data, parseCsv(daily.da_DK.csv), ','), []);
        const first = (await json(srv.port, '/v1/datasets/energy-district-hourly/records?order=hour_utc&limit=1')).data[0].hour_utc;
        const until = new Date(Date.parse(first) + 8 * 86400_000).toISOString().replace(/\.000Z$/, 'Z');
        const hourly = await readBack('energy-district-hourly', `district_id=in:1,2,3&hour_utc=lt:${until}`, ['en_US']);
        assert.ok(hourly.want.length >= 500, `${hourly.want.length} hourly rows`);
        assert.deepEqual(mismatches(hourly.want, hourly.meta.schema.fields, fodsSheets(hourly.en_US.fods).data, parseCsv(hourly.en_US.csv), '.'), []);
        const rows = sheets.fields;
        assert.deepEqual(rows[0].slice(0, 6).map((c) => c && c.text), ['name', 'type', 'unit', 'decimals', 'description', 'beskrivelse']);
        fields.forEach((f, k) => {
            const [name, type, unit, decimals, en, dan] = rows[k + 1];
            assert.equal(name.text, f.name);
            assert.equal(type.text, f.type);
            assert.equal(unit ? unit.text : undefined, f.unit, `unit of ${f.name}`);
            if (f.type === 'number') assert.equal(Number(decimals.value), f['x-klimaspejl'].scale, `decimals of ${f.name}`);
            assert.equal(en.text, f.description_en);
            assert.equal(dan.text, f.description_da);
        });
        const about = Object.fromEntries(sheets.about.filter((r) => r[0]).map((r) => [r[0].text, r[1] && r[1].text]));
        assert.equal(about.dataset, 'energy-district-daily');
        assert.equal(about.version, String(daily.meta.version));
        assert.equal(about.licence, daily.meta.license);
        assert.equal(about['cite as'], daily.meta.citation);
    });

    test('the licence, dataset version and source URL are document properties; one release gives the same bytes under one ETag', async () => {
        const id = 'waste-district-monthly';
        const meta = await json(srv.port, `/v1/datasets/${id}`);
        const p = `/v1/datasets/${id}/download?format=xlsx&district_id=eq:1`;
        const a = await getRaw(srv.port, p);
        const b = await getRaw(srv.port, p);
        assert.equal(a.status, 200);
        assert.equal(a.headers.etag, b.headers.etag);
        assert.equal(crypto.createHash('sha256').update(a.body).digest('hex'), crypto.createHash('sha256').update(b.body).digest('hex'));
        assert.equal(a.headers['x-dataset-version'], String(meta.version));
        assert.equal((await getRaw(srv.port, p, { headers: { 'if-none-match': a.headers.etag } })).status, 304);
        const other = await getRaw(srv.port, p, { headers: { host: 'data.example.org' } });
        assert.notEqual(other.headers.etag, a.headers.etag, 'the source URL (Host) is in the bytes, so in the tag');
        const file = path.join(tmp, 'props.xlsx');
        fs.writeFileSync(file, a.body);
        const z = zipTexts(file, ['docProps/core.xml', 'docProps/custom.xml', 'docProps/app.xml']);
        assert.ok(z['docProps/core.xml'].includes(`<dc:title>${meta.title_en}</dc:title>`), z['docProps/core.xml']);
        const custom = z['docProps/custom.xml'];
        const prop = (name) => (custom.match(new RegExp(`name="${name}"><vt:lpwstr>([^<]*)</vt:lpwstr>`)) || [])[1];
        assert.equal(prop('licence'), meta.license);
        assert.equal(prop('licence URL'), meta.license_url);
        assert.equal(prop('version'), String(meta.version));
        assert.equal(prop('source URL'), `http://127.0.0.1:${srv.port}${p}`.replace(/&/g, '&amp;'));
        const head = await getRaw(srv.port, p, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers['content-type'], XLSX);
        assert.equal(head.body.length, 0);
    });

    test('a records page as xlsx: the page\'s rows (grouped too), and the same next cursor as its JSON twin', async () => {
        const base = '/v1/datasets/energy-district-daily/records?group_by=district_id,day&measures=sum:electricity_kwh,avg:water_l_per_household,count&order=district_id,day&limit=7';
        const page1 = await json(srv.port, base);
        const x1 = await getRaw(srv.port, `${base}&format=xlsx`);
        assert.equal(x1.status, 200, x1.body.toString());
        assert.equal(x1.headers['content-type'], XLSX);
        assert.equal(x1.headers['x-next-cursor'], page1.next_cursor);
        assert.match(x1.headers.link, /rel="next"/);
        assert.ok(x1.headers.link.includes(`cursor=${page1.next_cursor}`));
        const file = path.join(tmp, 'page1.xlsx');
        fs.writeFileSync(file, x1.body);
        const { fods, csv } = calc(file, 'en_US');
        const names = Object.keys(page1.data[0]);
        const fields = names.map((n) => ({
            name: n,
            type: n === 'day' ? 'date' : n.startsWith('sum_') || n.startsWith('avg_') ? 'number' : 'integer',
            'x-klimaspejl': { scale: n.startsWith('avg_') ? 3 + 2 : 3 },
        }));
        // decimals as declared: sum keeps electricity_kwh's scale, avg two more (the schema says which)
        const schema = (await json(srv.port, '/v1/datasets/energy-district-daily')).schema.fields;
        const scale = (c) => schema.find((f) => f.name === c)['x-klimaspejl'].scale;
        fields.find((f) => f.name === 'sum_electricity_kwh')['x-klimaspejl'].scale = scale('electricity_kwh');
        fields.find((f) => f.name === 'avg_water_l_per_household')['x-klimaspejl'].scale = scale('water_l_per_household') + 2;
        assert.deepEqual(mismatches(page1.data, fields, fodsSheets(fods).data, parseCsv(csv), '.'), []);
        const page2 = await json(srv.port, `${base}&cursor=${page1.next_cursor}`);
        const x2 = await getRaw(srv.port, `${base}&format=xlsx&cursor=${x1.headers['x-next-cursor']}`);
        assert.equal(x2.status, 200);
        assert.equal(x2.headers['x-next-cursor'], page2.next_cursor ?? undefined);
    });

    test('a client that goes away while its workbook is being written frees its slot, and the server serves on', async () => {
        const gone = http.get({ host: '127.0.0.1', port: srv.port, path: '/v1/datasets/energy-district-hourly/download?format=xlsx', agent: false });
        gone.on('error', () => {});
        await new Promise((res) => setTimeout(res, 300));
        gone.destroy();
        let active = null;
        for (let i = 0; i < 100; ++i) {
            const m = (await request(srv.port, { path: '/metrics' })).body;
            active = m.split('\n').filter((l) => l.startsWith('klimaspejl_downloads_active')).map((l) => Number(l.split(' ').pop()));
            if (active.length && active.every((n) => n === 0)) break;
            await new Promise((res) => setTimeout(res, 100));
        }
        assert.ok(active.length && active.every((n) => n === 0), `downloads still active: ${active}`);
        const r = await getRaw(srv.port, '/v1/datasets/waste-district-monthly/download?format=xlsx&district_id=eq:2');
        assert.equal(r.status, 200);
        assert.equal(r.body.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    });

    test('bad formats are refused before any query; xlsx is listed in the spec and the DCAT distributions', async () => {
        const bad = await request(srv.port, { path: '/v1/datasets/energy-district-daily/download?format=xls' });
        assert.equal(bad.status, 400);
        assert.equal(JSON.parse(bad.body).parameter, 'format');
        assert.match(JSON.parse(bad.body).detail, /xlsx/);
        const spec = await json(srv.port, '/openapi.json');
        const dl = spec.paths['/v1/datasets/{id}/download'].get;
        assert.ok(dl.parameters.find((p) => p.name === 'format').schema.enum.includes('xlsx'));
        assert.ok(dl.responses['200'].content[XLSX]);
        const cat = await json(srv.port, '/v1/catalog.jsonld');
        assert.ok(JSON.stringify(cat).includes(XLSX), 'a DCAT distribution with the xlsx media type');
    });
});
