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
        await page.waitForFunction(() => /2001-01/.test(document.getElementById('summary').textContent));
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

    test('dashboard in Danish', async () => {
        const page = await newPage({ lang: 'da' });
        await signIn(page, 'da');
        assert.equal(await page.getAttribute('html', 'lang'), 'da');
        assert.equal(await page.textContent('h1'), 'Din husstands klimaspejl');
        assert.equal(await page.textContent('#ov-h'), 'Din måned');
        await page.context().close();
    });
});

describe('accessibility (axe-core, WCAG 2.1 AA) and screenshots', { timeout: 600_000 }, () => {
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
                // nothing on the page is wider than the viewport (readable without sideways scrolling)
                assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll');
                await page.context().close();
            });
        }
    }
});

describe('hygiene', { timeout: 600_000 }, () => {
    test('no console errors and no request left the server, on any page of any test', () => {
        assert.deepEqual(problems, []);
    });
});
