// web.test.mjs — clients/web in headless Chromium (playwright-core + Debian's /usr/bin/chromium) against a real
// klimaspejl server and the seeded test database: the explorer (filter, preview, download), signing in as a demo
// household through the OAuth flow and seeing the same numbers the API returns, revoking an app, the language switch,
// axe-core (no serious or critical WCAG 2.1 AA violation on any page, both languages, 360 px and 1280 px), no console
// errors, no request to any host but the server. Screenshots go to tests/out/screenshots.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';

import { DB_ADMIN_URL, ROOT, psql, runCli, startServer } from '../integration/harness.mjs';
import { KlimaspejlClient, createPkcePair, createState, parseRedirect } from '../../clients/js/src/index.js';

const CHROMIUM = process.env.KLIMA_CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'tests/out/screenshots');
const WIDTHS = [360, 1280];
const adminEnv = { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };

let server;
let browser;
let base;
let tmp;
let clientId;
let keysDir;
const problems = []; // console errors, page errors and requests to other hosts, from every page of every test

function cli(args, env = {}) {
    const r = runCli(args, { env: { ...adminEnv, ...env } });
    assert.equal(r.status, 0, `klimaspejl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
}

// A fresh browser context that fails every request to a host other than the server and records console errors.
async function newPage({ width = 1280, lang = 'en' } = {}) {
    const ctx = await browser.newContext({ viewport: { width, height: 900 }, locale: lang === 'da' ? 'da-DK' : 'en-GB', acceptDownloads: true });
    await ctx.route('**/*', (route) => {
        const u = new URL(route.request().url());
        if (u.protocol === 'data:' || u.protocol === 'blob:' || u.host === `127.0.0.1:${server.port}`) return route.continue();
        problems.push(`request to another host: ${u.href}`);
        return route.abort();
    });
    const page = await ctx.newPage();
    page.on('console', (m) => {
        // a month without data is a 404 by the API's contract; the browser logs every 4xx response
        if (m.type() === 'error' && /month=2001-01/.test(m.location().url || '')) return;
        if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()} ${JSON.stringify(m.location())}`);
    });
    page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
    return page;
}

async function axe(page, label) {
    const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
        bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`),
        [],
        `axe on ${label}`,
    );
}

// Runs the explorer query of the tests: Nørrebro, electricity per month.
async function explorerQuery(page) {
    await page.goto(`${base}/explore#energy-district-daily`);
    await page.waitForSelector('#ds-detail:not([hidden])');
    await page.click('#add-filter');
    await page.selectOption('#f1-col', 'district');
    await page.selectOption('#f1-op', 'eq');
    await page.fill('#f1-val', 'Nørrebro');
    await page.check('#group input[value="day"]');
    await page.selectOption('#bucket', 'month');
    await page.check('#measures input[value="sum:electricity_kwh"]');
    await page.click('#run');
    await page.waitForSelector('#res-table tbody tr');
}

// Signs in through /oauth/authorize, the dev login (first demo household) and the consent screen.
async function signIn(page, lang = 'en') {
    await page.goto(`${base}/`);
    if (lang === 'da') await page.evaluate(() => localStorage.setItem('klimaspejl.lang', 'da'));
    await page.goto(`${base}/`);
    await page.click('#sign-in');
    await page.waitForSelector('input[name="household"]');
    await page.click('form[action="/oauth/login"] button[type="submit"]');
    await page.waitForSelector('button[value="approve"]');
    await page.click('button[value="approve"]');
    await page.waitForURL(`${base}/`);
    await page.waitForSelector('#summary #total-co2e, #summary p');
}

before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-browser-'));
    // the pages, with an assets/client.json for this test's own first-party client
    const web = path.join(tmp, 'web');
    fs.cpSync(path.join(ROOT, 'clients/web'), web, { recursive: true, filter: (src) => !src.includes('node_modules') });
    const out = cli(['client', 'add', '--name', 'klimaspejl dashboard (browser test)', '--first-party', '--redirect-uri', 'http://127.0.0.1:1/callback']);
    clientId = /client_id (\S+)/.exec(out)[1];
    fs.writeFileSync(path.join(web, 'assets/client.json'), JSON.stringify({ client_id: clientId }));
    const keys = (keysDir = path.join(tmp, 'keys'));
    fs.mkdirSync(keys, { mode: 0o700 });
    cli(['keygen'], { KLIMA_KEYS_DIR: keys });
    server = await startServer({ env: { KLIMA_WEB_DIR: web, KLIMA_KEYS_DIR: keys, KLIMA_DEV_LOGIN: '1', KLIMA_LOG_LEVEL: 'warn' } });
    base = `http://127.0.0.1:${server.port}`;
    psql(DB_ADMIN_URL, `UPDATE meta.clients SET redirect_uris = ARRAY['${base}/callback'] WHERE client_id = '${clientId}'`);
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
        ],
        // launch() always gives Chromium a fresh temporary --user-data-dir of its own (and refuses one passed in args)
    });
    fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
    await browser?.close();
    if (server) await server.stop();
    if (clientId) psql(DB_ADMIN_URL, `DELETE FROM meta.clients WHERE client_id = '${clientId}'`);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('data explorer', { timeout: 600_000 }, () => {
    test('filter + preview shows the rows the API URL returns, and the chart', async () => {
        const page = await newPage();
        await explorerQuery(page);
        const url = await page.textContent('#api-url');
        assert.match(url, /district=eq%3AN%C3%B8rrebro/);
        assert.match(url, /group_by=day&bucket=month&measures=sum%3Aelectricity_kwh/);
        const api = await (await fetch(url)).json();
        assert.ok(api.data.length > 0);
        const cells = await page.$$eval('#res-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
        assert.equal(cells[0], api.data[0].day);
        const shown = await page.$$eval('#res-table tbody tr', (trs) => trs.filter((tr) => tr.children.length > 1).length);
        assert.equal(shown, api.data.length);
        assert.ok(await page.$('#chart canvas'), 'uPlot drew a chart');
        assert.match(await page.textContent('#res-status'), new RegExp(`${api.data.length} rows shown`));
        assert.match(await page.textContent('#curl'), /^curl -sS '/);
        await page.context().close();
    });

    test('download: CSV of the filtered slice', async () => {
        const page = await newPage();
        await explorerQuery(page);
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
        const file = await dl.path();
        const text = fs.readFileSync(file, 'utf8');
        const lines = text.trim().split('\n');
        assert.match(lines[0], /^district_id,district,day/);
        assert.ok(lines.length > 2);
        assert.ok(lines.slice(1).every((l) => l.includes('Nørrebro')), 'every row is Nørrebro');
        await page.context().close();
    });

    test('download: CSV for Excel has semicolons, decimal commas and a byte-order mark', async () => {
        const page = await newPage();
        await explorerQuery(page);
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv-excel')]);
        const text = fs.readFileSync(await dl.path(), 'utf8');
        assert.ok(text.startsWith('\uFEFF'), 'a byte-order mark');
        const lines = text.slice(1).trim().split('\n');
        assert.match(lines[0], /^district_id;district;day/);
        assert.ok(lines.slice(1).some((l) => /;\d+,\d+;/.test(l)), 'decimal commas');
        assert.ok(!lines.slice(1).some((l) => /;\d+\.\d+;/.test(l)), 'no decimal points');
        await page.context().close();
    });

    test('download: the filtered slice and the page as Excel workbooks (XLSX)', async () => {
        const page = await newPage();
        await explorerQuery(page);
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-xlsx')]);
        assert.match(dl.suggestedFilename(), /^energy-district-daily-v\d+\.xlsx$/);
        const bytes = fs.readFileSync(await dl.path());
        assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip (Office Open XML)');
        assert.ok(bytes.length > 5000, `${bytes.length} bytes`);
        const href = await page.getAttribute('#dl-page-xlsx', 'href');
        assert.match(href, /\/records\?.*format=xlsx/);
        const type = await page.evaluate(async (h) => (await fetch(h)).headers.get('content-type'), href);
        assert.equal(type, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        await page.context().close();
    });

    test('the chart draws the whole result, not only the page in the table', async () => {
        const page = await newPage();
        await page.goto(`${base}/explore#waste-district-monthly`);
        await page.waitForSelector('#ds-detail:not([hidden])');
        await page.fill('#limit', '5');
        await page.click('#run');
        await page.waitForFunction(() => /whole result/.test(document.getElementById('chart-note').textContent), null, { timeout: 20_000 });
        const note = await page.textContent('#chart-note');
        const all = await (await fetch(`${base}/v1/datasets/waste-district-monthly/records?limit=10000`)).json();
        assert.equal(Number(note.match(/\(([\d,.\s]+) rows\)/)[1].replace(/\D/g, '')), all.data.length, note);
        assert.equal(await page.$$eval('#res-table tbody tr', (trs) => trs.filter((tr) => tr.children.length > 1).length), 5);
        assert.ok(await page.$('#chart canvas'));
        const head = await page.$$eval('#res-table thead th', (ths) => ths.map((th) => th.textContent));
        assert.ok(head.includes('kg (kg)') || head.some((h) => /^kg \(/.test(h)), `column titles carry units: ${head}`);
        await page.context().close();
    });

    test('paging follows next_cursor', async () => {
        const page = await newPage();
        await page.goto(`${base}/explore#grid-intensity-hourly`);
        await page.waitForSelector('#ds-detail:not([hidden])');
        await page.fill('#limit', '5');
        await page.click('#run');
        await page.waitForSelector('#res-table tbody tr');
        const first = await page.textContent('#res-table tbody tr:first-child td');
        await page.click('#next');
        await page.waitForFunction(() => /page 2/.test(document.getElementById('res-status').textContent));
        assert.notEqual(await page.textContent('#res-table tbody tr:first-child td'), first);
        await page.context().close();
    });

    test('switching language changes the texts and is remembered', async () => {
        const page = await newPage({ lang: 'en' });
        await page.goto(`${base}/explore`);
        await page.waitForSelector('#ds-list li');
        assert.equal(await page.textContent('h1'), 'Data explorer');
        assert.equal(await page.getAttribute('html', 'lang'), 'en');
        const enTitle = await page.textContent('#ds-list li:nth-child(2) strong');
        await page.click('#lang-switch');
        await page.waitForFunction(() => document.documentElement.lang === 'da');
        assert.equal(await page.textContent('h1'), 'Dataudforsker');
        await page.waitForFunction((t) => document.querySelector('#ds-list li:nth-child(2) strong')?.textContent !== t, enTitle);
        await page.reload();
        await page.waitForSelector('#ds-list li');
        assert.equal(await page.getAttribute('html', 'lang'), 'da');
        assert.equal(await page.textContent('#lang-switch'), 'English');
        await page.context().close();
    });

    test('the explorer works by keyboard alone', async () => {
        const page = await newPage();
        await page.goto(`${base}/explore`);
        await page.waitForSelector('#ds-list li');
        await page.focus('#ds-list li:nth-child(2) button');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#ds-detail:not([hidden])');
        assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-h');
        await page.focus('#run');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#res-table tbody tr');
        await page.context().close();
    });
});

describe('explorer at 360 px: nothing wider than the screen', { timeout: 600_000 }, () => {
    // document.documentElement.scrollWidth, the width a reader would have to scroll sideways through
    const wide = (page) => page.evaluate(() => document.documentElement.scrollWidth);
    for (const lang of ['en', 'da']) {
        test(`every state of the explorer in ${lang}: catalog, search, each dataset, a wide table, a grouped chart`, async () => {
            const page = await newPage({ width: 360, lang });
            await page.goto(`${base}/explore`);
            await page.evaluate((l) => localStorage.setItem('klimaspejl.lang', l), lang);
            await page.goto(`${base}/explore`);
            await page.waitForSelector('#ds-list li button');
            const states = [['catalog', await wide(page)]];
            await page.fill('#ds-q', 'waste');
            await page.waitForFunction(() => /“waste”|»waste«/.test(document.getElementById('ds-status').textContent));
            states.push(['search', await wide(page)]);
            // the search finds by a column name too, and says how many of how many matched; axe-clean
            const shown = await page.$$eval('#ds-list li button', (bs) => bs.map((b) => b.dataset.id));
            assert.ok(shown.includes('waste-district-monthly') && !shown.includes('energy-district-hourly'), `search for waste: ${shown}`);
            await page.fill('#ds-q', 'kg_per_household');
            await page.waitForFunction(() => /kg_per_household/.test(document.getElementById('ds-status').textContent));
            assert.ok((await page.$$eval('#ds-list li button', (bs) => bs.map((b) => b.dataset.id))).includes('waste-district-monthly'));
            await axe(page, `/explore search 360px ${lang}`);
            await page.fill('#ds-q', '');
            const ids = await page.evaluate(async () => (await (await fetch('/v1/datasets')).json()).datasets.map((d) => d.id));
            await page.waitForFunction((n) => document.querySelectorAll('#ds-list li button').length === n, ids.length);
            for (const id of ids) {
                await page.click(`#ds-list button[data-id="${id}"]`);
                await page.waitForSelector(`#ds-list button[data-id="${id}"][aria-pressed="true"]`);
                await page.waitForSelector('#ds-detail:not([hidden])');
                await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
                states.push([`${id} opened`, await wide(page)]);
                await page.click('#run');
                await page.waitForSelector('#res-table tbody tr, #res-status:not(:empty)');
                await page.waitForFunction(() => document.getElementById('res-status').textContent !== '');
                states.push([`${id} rows`, await wide(page)]);
            }
            await page.goto('about:blank'); // explorerQuery loads the explorer afresh (a hash-only change would not)
            await explorerQuery(page);
            await page.waitForSelector('#chart canvas, #chart svg, #chart .u-wrap', { timeout: 20_000 });
            states.push(['grouped query with chart', await wide(page)]);
            const over = states.filter(([, w]) => w > 360);
            assert.deepEqual(over, [], `scrollWidth over 360 px: ${JSON.stringify(over)}`);
            await page.context().close();
        });
    }
});

describe('citizen dashboard', { timeout: 600_000 }, () => {
    test('sign in as a demo household: the summary shows the numbers the API returns', async () => {
        const page = await newPage();
        await signIn(page);
        const month = await page.inputValue('#month');
        const api = await page.evaluate(async (m) => {
            const tok = JSON.parse(sessionStorage.getItem('klimaspejl.auth')).access;
            const r = await fetch(`/v1/me/summary?month=${m}&lang=en`, { headers: { authorization: `Bearer ${tok}` } });
            return { status: r.status, body: await r.json() };
        }, month);
        assert.equal(api.status, 200, JSON.stringify(api.body));
        assert.equal(Number(await page.getAttribute('#total-co2e', 'data-value')), api.body.total_co2e_kg);
        assert.equal(await page.textContent('#total-co2e'), new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 }).format(api.body.total_co2e_kg));
        assert.equal(Number(await page.getAttribute('#per-person', 'data-value')), api.body.co2e_kg_per_person);
        assert.equal(await page.textContent('#rating-text'), api.body.peers.rating_text);
        for (const [cat, v] of Object.entries(api.body.categories)) {
            if (!(await page.$(`#cat-${cat}`))) continue;
            assert.equal(Number(await page.getAttribute(`#cat-${cat} .cat-co2e`, 'data-value')), v.co2e_kg, cat);
        }
        assert.deepEqual(await page.$$eval('#tips li', (lis) => lis.map((li) => li.dataset.tip)), api.body.tips.map((t) => t.id));
        // the month picker: a month before the data has none
        await page.fill('#month', '2001-01');
        await page.click('#month-go');
        // the month in words, never as an ISO code in a sentence
        await page.waitForFunction(() => /January 2001/.test(document.getElementById('summary').textContent));
        await page.context().close();
    });

    test('history: 12 months per category and in total with the median line, partial months marked; the group in words; KP2035 fair', async () => {
        const page = await newPage();
        await signIn(page);
        await page.waitForSelector('#hist-total circle');
        const month = await page.inputValue('#month');
        const call = (p) => page.evaluate(async (u) => {
            const tok = JSON.parse(sessionStorage.getItem('klimaspejl.auth')).access;
            return (await fetch(u, { headers: { authorization: `Bearer ${tok}` } })).json();
        }, p);
        const s = await call(`/v1/me/summary?month=${month}&lang=en`);
        const h = await call(`/v1/me/history?to=${month}`);
        assert.equal(h.months.length, 12);
        for (const [cat, pick] of [['total', (m) => [m.total_co2e_kg, m.peers.total_co2e_kg_median]],
            ...['electricity', 'district_heating', 'water', 'waste', 'mobility'].map((c) => [c, (m) => [m.categories?.[c]?.co2e_kg, m.peers.categories?.[c]?.co2e_kg_median]])]) {
            const you = await page.$$eval(`#hist-${cat} circle.you`, (cs) => cs.map((c) => [c.dataset.month, Number(c.dataset.value)]));
            const med = await page.$$eval(`#hist-${cat} circle.median`, (cs) => cs.map((c) => [c.dataset.month, Number(c.dataset.value)]));
            assert.deepEqual(you, h.months.filter((m) => pick(m)[0] != null).map((m) => [m.month, pick(m)[0]]), `${cat}: own line`);
            assert.deepEqual(med, h.months.filter((m) => pick(m)[1] != null).map((m) => [m.month, pick(m)[1]]), `${cat}: median line`);
            assert.ok(you.length >= 10 && med.length >= 10, `${cat}: two lines drawn`);
            assert.equal(await page.$$eval(`#hist-${cat} tbody tr`, (rs) => rs.length), 12, `${cat}: the figures as a table`);
        }
        // the comparison group in words, and why it was widened
        assert.equal(await page.textContent('#group-text'), s.peers.group_text);
        assert.match(s.peers.group_text, /^Compared with \d+ (apartments|terraced houses|detached houses|homes)/);
        if (s.peers.widened) assert.equal(await page.textContent('#widened-text'), s.peers.widened_text);
        // KP2035: the measured categories' change beside the path's pace, never against the whole-consumption target
        assert.equal(Number(await page.getAttribute('#kp-path [data-value]', 'data-value')), s.kp2035.path_change_pct_per_year);
        if (s.kp2035.measured_change_pct !== null) assert.equal(Number(await page.getAttribute('#kp-you [data-value]', 'data-value')), s.kp2035.measured_change_pct);
        const kpText = await page.textContent('#kp2035');
        assert.ok(!kpText.includes(String(s.kp2035.target_t_per_person_year)), 'the whole target is not set against the measured part');
        assert.match(kpText, /Source: City of Copenhagen/);
        // words: no "0 %", the median named as such, months in words
        const text = await page.textContent('#overview');
        assert.doesNotMatch(text, /(^|[^\d.,])0 %/, 'no "0 %"');
        assert.doesNotMatch(text, /\(middle\)|in the middle/);
        assert.doesNotMatch(await page.textContent('#trend'), /\d{4}-\d{2}/, 'no ISO month in the trend sentence');
        // a window that starts with the data: its first month is incomplete and drawn hollow, named in the caption
        const wide = await call(`/v1/me/history?from=${h.months[0].month.slice(0, 4) - 1}${h.months[0].month.slice(4)}&to=${month}`);
        const firstMonth = wide.months.find((m) => m.has_data);
        assert.equal(firstMonth.partial, true, 'the seeded data starts inside its first month');
        const [y, mo] = firstMonth.month.split('-').map(Number);
        await page.fill('#month', `${y + (mo + 2 > 12 ? 1 : 0)}-${String(((mo + 1) % 12) + 1).padStart(2, '0')}`);
        await page.click('#month-go');
        await page.waitForSelector(`#hist-total circle.you.partial[data-month="${firstMonth.month}"]`);
        assert.match(await page.textContent('#hist-total figcaption'), /Incomplete months \(hollow points\)/);
        await page.context().close();
    });

    // Issue 15, must-show 4: on a shared computer, "Log ud" then "Log ind" starts at the login, never with the previous
    // household. The session cookie is __Host- and Secure, which Chromium keeps on http://127.0.0.1 (loopback).
    test('sign in, sign out, sign in: the login form, never the previous household', async () => {
        const page = await newPage();
        await signIn(page);
        const session = (await page.context().cookies()).find((c) => c.name === '__Host-klima_session');
        assert.ok(session, 'Chromium kept the __Host- session cookie over http://127.0.0.1');
        assert.equal(session.secure, true);
        assert.equal(session.httpOnly, true);
        assert.equal(session.path, '/');
        const logout = page.waitForResponse((r) => r.url().endsWith('/oauth/logout'));
        await page.click('#sign-out');
        assert.equal((await logout).status(), 204);
        await page.waitForSelector('#signed-out:not([hidden])');
        assert.match(await page.textContent('#status'), /signed out, also of klimaspejl's login/);
        assert.ok(!(await page.context().cookies()).some((c) => c.name === '__Host-klima_session'), 'the session cookie is gone');
        await page.click('#sign-in');
        await page.waitForSelector('input[name="household"], button[value="approve"]');
        assert.ok(await page.$('input[name="household"]'), 'the login form');
        assert.equal(await page.$('button[value="approve"]'), null, 'not the consent screen of the previous household');
        // another household this time: the consent screen names it
        const second = await page.getAttribute('input[name="household"] >> nth=1', 'value');
        await page.check(`input[name="household"][value="${second}"]`);
        await page.click('form[action="/oauth/login"] button[type="submit"]');
        await page.waitForSelector('button[value="approve"]');
        assert.match(await page.textContent('#signed-in-as'), new RegExp(`${second.slice(0, 8)}…`));
        // "Not you?" signs out and shows the login again
        await page.click('#not-you');
        await page.waitForSelector('input[name="household"]');
        await page.context().close();
    });

    test('the greenest 3 hours in the next 24, beside the tips, from a forecast ingested and released', async () => {
        // a CO2EmisProg file for the next 30 hours (from the current UTC hour) with a dip 5-7 hours ahead
        const h0 = Math.floor(Date.now() / 3_600_000) * 3_600_000;
        const local = (t) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit',
            day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(t)).replace(' ', 'T');
        const records = [];
        for (let t = h0; t < h0 + 30 * 3_600_000; t += 300_000) {
            const i = Math.floor((t - h0) / 3_600_000);
            const v = { 5: 21, 6: 15, 7: 24 }[i] ?? 150 + i;
            for (const area of ['DK1', 'DK2']) records.push({ Minutes5UTC: new Date(t).toISOString().slice(0, 19), Minutes5DK: local(t), PriceArea: area, CO2Emission: v });
        }
        const file = path.join(tmp, 'CO2EmisProg-browser.json');
        fs.writeFileSync(file, JSON.stringify({ total: records.length, dataset: 'CO2EmisProg', records }));
        cli(['ingest', 'eds-co2', file]);
        runCli(['refresh'], { env: adminEnv, timeout: 900_000 });
        const from = local(h0 + 5 * 3_600_000).slice(11, 16), to = local(h0 + 8 * 3_600_000).slice(11, 16);
        const page = await newPage();
        await signIn(page);
        await page.waitForFunction(() => /\d\d:\d\d/.test(document.getElementById('greenest')?.textContent ?? ''), null, { timeout: 20_000 });
        const text = await page.textContent('#greenest');
        assert.ok(text.startsWith('The greenest 3 hours in the next 24: ') && text.includes(`${from}–${to}`), text);
        assert.equal(await page.getAttribute('#greenest', 'data-start'), new Date(h0 + 5 * 3_600_000).toISOString().replace('.000', ''));
        if (await page.$('#tips li[data-tip="shift-dirty-hours"]')) {
            assert.ok((await page.textContent('#tips li[data-tip="shift-dirty-hours"] .greenest-tip')).includes(`${from}–${to}`));
        }
        await page.context().close();
    });

    test('my apps: revoke a third-party app in one click', async () => {
        const page = await newPage();
        await signIn(page);
        const household = await page.evaluate(() => {
            const tok = JSON.parse(sessionStorage.getItem('klimaspejl.auth')).access;
            return JSON.parse(atob(tok.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;
        });
        const third = /client_id (\S+)/.exec(cli(['client', 'add', '--name', 'Browser test app', '--redirect-uri', 'https://app.example/cb']))[1];
        try {
            const token = cli(['token', '--household', household, '--scope', 'summary:read', '--client', third, '--days', '30'], { KLIMA_KEYS_DIR: keysDir }).trim();
            assert.equal((await fetch(`${base}/v1/me/summary`, { headers: { authorization: `Bearer ${token}` } })).status !== 401, true);
            await page.click('#tab-apps');
            await page.waitForSelector('#apps-list li');
            // each app once, with its grant and last-use dates and its scopes in words
            const cards = await page.$$eval('#apps-list > li', (lis) => lis.map((li) => li.dataset.client));
            assert.equal(new Set(cards).size, cards.length, `each app once: ${cards}`);
            const mine = page.locator(`#apps-list li[data-client="${clientId}"]`);
            assert.match(await mine.locator('.granted').textContent(), /^Granted: \d{1,2} [A-Z][a-z]+ \d{4}$/);
            assert.match(await mine.locator('.last-used').textContent(), /^Last used: \d{1,2} [A-Z][a-z]+ \d{4}$/);
            assert.ok((await mine.locator('ul.scopes li').allTextContents()).includes("Your household's monthly climate summary: CO2e, comparison with similar homes and tips"));
            assert.doesNotMatch(await mine.textContent(), /summary:read|consents:manage/, 'no scope codes');
            const card = page.locator('#apps-list li', { hasText: 'Browser test app' });
            await card.getByRole('button', { name: /Revoke access for Browser test app/ }).click();
            await page.waitForFunction(() => /revoked/.test(document.getElementById('apps-status').textContent));
            assert.equal(await page.locator('#apps-list li', { hasText: 'Browser test app' }).count(), 0);
            // the app's token no longer works (revocation reaches every worker within a second)
            let status = 0;
            for (let i = 0; i < 20 && status !== 401; ++i) {
                status = (await fetch(`${base}/v1/me/summary`, { headers: { authorization: `Bearer ${token}` } })).status;
                if (status !== 401) await new Promise((r) => setTimeout(r, 100));
            }
            assert.equal(status, 401);
        } finally {
            cli(['client', 'remove', third]);
        }
        await page.context().close();
    });

    test('export: all my data as a file', async () => {
        const page = await newPage();
        await signIn(page);
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
        assert.match(dl.suggestedFilename(), /^klimaspejl-export-.*\.ndjson$/);
        const first = fs.readFileSync(await dl.path(), 'utf8').split('\n')[0];
        assert.doesNotThrow(() => JSON.parse(first));
        await page.context().close();
    });

    test('export: a CSV per data kind, with the fields described', async () => {
        const page = await newPage();
        await signIn(page);
        await page.waitForSelector('#export-energy');
        const heads = {
            household: 'household_id,district_id,district,dwelling_type,occupant_band,floor_area_m2',
            energy: 'hour_utc,hour_dk,electricity_wh,heat_wh,water_l',
            waste: 'collected_on,fraction,kg',
            mobility: 'day,mode,trips,km',
        };
        const ndjson = await page.evaluate(async () => {
            const tok = JSON.parse(sessionStorage.getItem('klimaspejl.auth')).access;
            return (await fetch('/v1/me/export', { headers: { authorization: `Bearer ${tok}` } })).text();
        });
        const counts = {};
        for (const line of ndjson.trim().split('\n')) {
            const k = JSON.parse(line).kind;
            counts[k] = (counts[k] ?? 0) + 1;
        }
        for (const [kind, head] of Object.entries(heads)) {
            const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`#export-${kind}`)]);
            assert.match(dl.suggestedFilename(), new RegExp(`^klimaspejl-export-${kind}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
            const lines = fs.readFileSync(await dl.path(), 'utf8').trim().split(/\r?\n/);
            assert.equal(lines[0], head, kind);
            assert.equal(lines.length - 1, counts[kind], `${kind}: as many rows as the NDJSON export`);
            if (kind === 'energy') assert.match(lines[1], /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z,\d{4}-\d{2}-\d{2}T\d{2}:00:00,/);
            // every column of the file is described on the page
            const described = await page.textContent('#export-fields');
            for (const col of head.split(',')) assert.ok(described.includes(col), `${kind}.${col} described`);
        }
        await page.context().close();
    });

    for (const lang of ['en', 'da']) {
        test(`monthly report in ${lang}: the month's figures with their meaning, one A4 page in print`, async () => {
            const page = await newPage({ lang });
            await signIn(page, lang);
            await page.waitForSelector('#report-link');
            const month = await page.inputValue('#month');
            await page.click('#report-link');
            await page.waitForSelector('#report-table');
            const s = await page.evaluate(async (m) => {
                const tok = JSON.parse(sessionStorage.getItem('klimaspejl.auth')).access;
                return (await fetch(`/v1/me/summary?month=${m}&lang=${document.documentElement.lang}`, { headers: { authorization: `Bearer ${tok}` } })).json();
            }, month);
            assert.equal(await page.getAttribute('html', 'lang'), lang);
            assert.equal(Number(await page.getAttribute('#report-total', 'data-value')), s.total_co2e_kg);
            for (const [c, v] of Object.entries(s.categories)) {
                assert.equal(Number(await page.getAttribute(`#report-table tr[data-cat="${c}"] td[data-value]`, 'data-value')), v.co2e_kg, c);
            }
            assert.equal(await page.textContent('#report-rating'), s.peers.rating_text);
            assert.equal(await page.$$eval('#report-fields dt', (d) => d.length), 8, 'eight figures described');
            const h1 = await page.textContent('h1');
            assert.match(h1, lang === 'da' ? /^Klimarapport for [a-zæø]+ \d{4}$/ : /^Climate report for [A-Z][a-z]+ \d{4}$/);
            await axe(page, `/report ${lang}`);
            // on paper: no site header or buttons, and one A4 page
            await page.emulateMedia({ media: 'print' });
            assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('header.site')).display), 'none');
            assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('main .no-print')).display), 'none', 'no buttons on paper');
            const pdf = await page.pdf({ format: 'A4', printBackground: false });
            const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
            assert.equal(pages, 1, `the report prints on one page (${pages})`);
            fs.writeFileSync(path.join(SHOTS, `report-${lang}.pdf`), pdf);
            await page.context().close();
        });
    }

    test('dashboard in Danish', async () => {
        const page = await newPage({ lang: 'da' });
        await signIn(page, 'da');
        assert.equal(await page.getAttribute('html', 'lang'), 'da');
        assert.equal(await page.textContent('h1'), 'Din husstands klimaspejl');
        assert.equal(await page.textContent('#ov-h'), 'Din måned');
        // Danish words: months by name, the median called so, no "0 %"
        await page.waitForSelector('#hist-total circle');
        const text = await page.textContent('#overview');
        assert.match(text, /(januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december) \d{4}/);
        assert.doesNotMatch(text, /\d{4}-\d{2}/, 'no ISO month codes');
        assert.doesNotMatch(text, /midten|middel/, 'the median is called median');
        assert.doesNotMatch(text, /(^|[^\d.,])0 %/, 'no "0 %"');
        assert.match(await page.textContent('#group-text'), /^Sammenlignet med \d+ (lejligheder|rækkehuse|parcelhuse|hjem)/);
        assert.match(await page.textContent('#kp2035'), /Kilde: Københavns Kommune/);
        await page.context().close();
    });
});

// (each page at each width and language: about a minute on an idle 2-core machine, several when it is shared)
describe('accessibility (axe-core, WCAG 2.1 AA) and screenshots', { timeout: 1_200_000 }, () => {
    for (const width of WIDTHS) {
        for (const lang of ['en', 'da']) {
            test(`every page at ${width} px in ${lang}`, async () => {
                const page = await newPage({ width, lang });
                await page.goto(`${base}/`);
                await page.evaluate((l) => localStorage.setItem('klimaspejl.lang', l), lang);
                for (const p of ['/', '/start', '/docs']) {
                    await page.goto(`${base}${p}`);
                    if (p === '/docs') await page.waitForFunction(() => /loaded|indlæst/.test(document.getElementById('docs-status').textContent), null, { timeout: 20_000 });
                    else await page.waitForLoadState('networkidle');
                    assert.equal(await page.getAttribute('html', 'lang'), lang);
                    await axe(page, `${p} ${width}px ${lang}`);
                    if (p === '/start') {
                        // registration, the scopes and refreshing a token, in the page's language
                        const visible = await page.locator(`[data-lang-block="${lang}"]`).textContent();
                        assert.match(visible, /\/oauth\/register/);
                        assert.match(visible, /client approve/);
                        for (const scope of ['summary:read', 'energy:read', 'waste:read', 'mobility:read', 'export:read']) assert.ok(visible.includes(scope), `${lang} /start names ${scope}`);
                        assert.match(visible, /grant_type=refresh_token/);
                    }
                }
                await explorerQuery(page);
                await axe(page, `/explore ${width}px ${lang}`);
                if (lang === 'en') await page.screenshot({ path: path.join(SHOTS, `explorer-${width}.png`), fullPage: true });
                await signIn(page, lang);
                await page.waitForSelector('#total-co2e');
                await axe(page, `/ signed in ${width}px ${lang}`);
                if (lang === 'en') await page.screenshot({ path: path.join(SHOTS, `dashboard-${width}.png`), fullPage: true });
                await page.click('#tab-apps');
                await page.waitForSelector('#apps-list li');
                await axe(page, `/#apps ${width}px ${lang}`);
                // the dashboard appears once in "my apps", however often this browser signed in
                assert.equal(await page.locator(`#apps-list li[data-client="${clientId}"]`).count(), 1, 'one card for the dashboard');
                await page.goto(`${base}/report`);
                await page.waitForSelector('#report-table');
                await axe(page, `/report ${width}px ${lang}`);
                assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), '/report: no horizontal scroll');
                await page.goto(`${base}/#apps`);
                await page.waitForSelector('#apps-list li');
                // nothing on the page is wider than the viewport (readable without sideways scrolling)
                assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll');
                await page.context().close();
            });
        }
    }
});

describe('login and consent pages: the site header, language switch, favicon and styles, labels in the page language', { timeout: 1_200_000 }, () => {
    for (const width of WIDTHS) {
        for (const lang of ['en', 'da']) {
            test(`login and consent at ${width} px in ${lang}`, async () => {
                const page = await newPage({ width, lang });
                await page.goto(`${base}/`);
                await page.evaluate((l) => localStorage.setItem('klimaspejl.lang', l), lang);
                await page.goto(`${base}/`);
                await page.click('#sign-in');
                await page.waitForSelector('input[name="household"]');
                for (const step of ['login', 'consent']) {
                    assert.equal(await page.getAttribute('html', 'lang'), lang, step);
                    assert.equal(await page.locator('header.site a.brand').count(), 1, `${step}: the site header`);
                    assert.equal(await page.locator('header.site nav a[href="/explore"]').count(), 1, `${step}: the site menu`);
                    assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), '/assets/favicon.svg');
                    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('header.site')).backgroundColor), 'rgb(11, 93, 59)', `${step}: site.css applies`);
                    assert.equal(await page.textContent('#lang-switch'), lang === 'da' ? 'English' : 'Dansk');
                    await axe(page, `${step} ${width}px ${lang}`);
                    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `${step}: no horizontal scroll`);
                    if (lang === 'en' && width === 360) await page.screenshot({ path: path.join(SHOTS, `${step}-360.png`), fullPage: true });
                    if (step === 'login') {
                        assert.equal(await page.textContent('fieldset legend'), lang === 'da' ? 'Demo-husstand' : 'Demo household');
                        const labels = (await page.$$eval('fieldset label', (ls) => ls.map((l) => l.textContent))).join(' | ');
                        if (lang === 'da') {
                            assert.doesNotMatch(labels, /apartment|terraced|detached|people/, labels);
                            assert.match(labels, /(lejlighed|rækkehus|parcelhus), (1 person|\d(-\d)? personer|5 eller flere personer)/);
                        } else {
                            assert.doesNotMatch(labels, /lejlighed|rækkehus|parcelhus|personer/, labels);
                            assert.match(labels, /(apartment|terraced house|detached house), (1 person|\d(-\d)? people|5 or more people)/);
                        }
                        // the switch shows the same page in the other language, and back
                        await page.click('#lang-switch');
                        await page.waitForFunction((l) => document.documentElement.lang !== l, lang);
                        assert.equal(await page.locator('input[name="household"]').count() > 0, true, 'still the login page');
                        await page.click('#lang-switch');
                        await page.waitForFunction((l) => document.documentElement.lang === l, lang);
                        await page.click('form[action="/oauth/login"] button[type="submit"]');
                        await page.waitForSelector('button[value="approve"]');
                    } else {
                        const body = await page.textContent('main');
                        assert.match(body, lang === 'da' ? /Mine apps/ : /My apps/, 'the same word as the dashboard tab');
                        assert.doesNotMatch(body, /samtykker|My consents/);
                        await page.click('button[value="approve"]');
                        await page.waitForURL(`${base}/`);
                    }
                }
                await page.context().close();
            });
        }
    }

    test('/favicon.ico is an icon', async () => {
        const r = await fetch(`${base}/favicon.ico`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type'), 'image/x-icon');
        const b = Buffer.from(await r.arrayBuffer());
        assert.deepEqual([...b.subarray(0, 4)], [0, 0, 1, 0], 'an ICO header');
    });
});

describe('an app developer: self-service registration end to end', { timeout: 600_000 }, () => {
    test('register() a public app, the operator approves it, a citizen consents, the app reads the summary', async () => {
        const api = new KlimaspejlClient({ baseUrl: base });
        // a loopback http redirect URI, as a developer's local app has; any page of this server will do as its target
        const redirectUri = `${base}/start`;
        const app = await api.register({ clientName: 'Registered browser-test app', redirectUris: [redirectUri], tokenEndpointAuthMethod: 'none', scope: 'summary:read', contacts: ['dev@app.example'] });
        try {
            assert.equal(app.status, 'pending');
            assert.match(cli(['client', 'list', '--pending']), new RegExp(app.client_id));
            cli(['client', 'approve', app.client_id]);
            const { codeVerifier, codeChallenge } = await createPkcePair();
            const state = await createState();
            const page = await newPage();
            await page.goto(api.authorizeUrl({ clientId: app.client_id, redirectUri, scope: 'summary:read', state, codeChallenge, lang: 'en' }));
            await page.waitForSelector('input[name="household"]');
            await page.click('form[action="/oauth/login"] button[type="submit"]');
            await page.waitForSelector('button[value="approve"]');
            assert.match(await page.textContent('main'), /Registered browser-test app/);
            assert.deepEqual(await page.$$eval('li[data-scope]', (ls) => ls.map((l) => l.dataset.scope)), ['summary:read']);
            await page.click('button[value="approve"]');
            await page.waitForURL(`${redirectUri}**`);
            const { code } = parseRedirect(page.url(), state);
            const tok = await api.exchangeCode({ clientId: app.client_id, code, redirectUri, codeVerifier });
            api.setToken(tok.access_token);
            const s = await api.summary({ lang: 'en' });
            assert.equal(typeof s.total_co2e_kg, 'number');
            assert.equal(s.lang, 'en');
            await page.context().close();
        } finally {
            cli(['client', 'remove', app.client_id]);
        }
    });
});

describe('hygiene', { timeout: 600_000 }, () => {
    test('no console errors and no request left the server, on any page of any test', () => {
        assert.deepEqual(problems, []);
    });
});
