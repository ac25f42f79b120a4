// browser.test.mjs — @klimaspejl/client unbundled in headless Chromium (playwright-core + Debian's /usr/bin/chromium):
// a page on one origin (a local node:http server that serves clients/js/src as ES modules) calls a real klimaspejl
// server on another origin, as a third-party web app would. Checks that the package runs in a browser as it is (no
// build step, no Node built-ins), that its open-data requests stay CORS-simple (no If-None-Match, no User-Agent, so
// no preflight), that WebCrypto PKCE, cursor paging and the NDJSON download work there, and that such an app (its
// origin registered through its redirect URI) gets through the whole consent flow: authorize in the browser, the
// citizen's dev login and approval, the redirect back to the app, exchangeCode, a personal call, revoke. No request
// leaves the machine.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { DB_ADMIN_URL, assertCleanExit, psql, runCli, startServer } from '../../../tests/integration/harness.mjs';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.KLIMA_CHROMIUM || '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);

let srv; // klimaspejl
let api; // its origin
let pages; // the app's origin (node:http)
let appOrigin;
let browser;
let page;
let keys;
let clientId;
let household;
let month;
const requests = [];
const consoleErrors = [];
// Chromium logs every 4xx answer as "Failed to load resource: …"; the tests provoke some on purpose (400, 401) and the
// server's HTML pages have no favicon (404). Script errors and anything else count.
const scriptErrors = () => consoleErrors.filter((m) => !/^Failed to load resource: the server responded with a status of 4\d\d\b/.test(m));

before(async () => {
    if (!haveChromium) return;
    const { chromium } = await import('playwright-core');
    // the app's origin first: its redirect URI must be registered before the server loads the clients' origins
    pages = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://localhost');
        if (url.pathname === '/favicon.ico') {
            res.writeHead(204).end();
            return;
        }
        if (url.pathname === '/' || url.pathname === '/callback') {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
            res.end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>app</title></head><body>app</body></html>');
            return;
        }
        const m = /^\/src\/([a-z]+\.js)$/.exec(url.pathname);
        const file = m && path.join(PKG, 'src', m[1]);
        if (!file || !fs.existsSync(file)) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        fs.createReadStream(file).pipe(res);
    });
    pages.listen(0, '127.0.0.1');
    await once(pages, 'listening');
    appOrigin = `http://localhost:${pages.address().port}`;

    keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-jsclient-browser-'));
    const env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
    assert.equal(runCli(['keygen'], { env }).status, 0);
    const add = runCli(['client', 'add', '--name', 'Browser app (JS client test)', '--redirect-uri', `${appOrigin}/callback`], { env });
    assert.equal(add.status, 0, add.stderr);
    clientId = /client_id\s+(\S+)/.exec(add.stdout)[1];
    household = psql(DB_ADMIN_URL, 'SELECT household_id FROM api.dev_households(1)');
    month = psql(
        DB_ADMIN_URL,
        "SELECT to_char(date_trunc('month', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '1 month', 'YYYY-MM') FROM core.energy_hourly",
    );

    srv = await startServer({ threads: '1', env: { KLIMA_KEYS_DIR: keys, KLIMA_DEV_LOGIN: '1' } });
    // 127.0.0.1 for the API and localhost for the app: two origins
    api = `http://127.0.0.1:${srv.port}`;
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage();
    page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${appOrigin}/`);
});

after(async () => {
    await browser?.close();
    pages?.closeAllConnections?.();
    pages?.close();
    if (srv) assertCleanExit(assert, await srv.stop());
    if (keys) fs.rmSync(keys, { recursive: true, force: true });
});

// Runs fn(api, lib) in the page, with lib = the imported package.
const inPage = (fn, arg) =>
    page.evaluate(
        async ({ src, apiBase, fnText, arg: a }) => {
            const lib = await import(src);
            const client = new lib.KlimaspejlClient({ baseUrl: apiBase, maxRetries: 1 });
            // eslint-disable-next-line no-new-func
            return new Function('client', 'lib', 'arg', `return (${fnText})(client, lib, arg);`)(client, lib, a);
        },
        { src: `${appOrigin}/src/index.js`, apiBase: api, fnText: fn.toString(), arg },
    );

test('in Chromium, cross-origin: catalog, a grouped query, recordsAll over pages, downloadRows and PKCE', { skip: !haveChromium && `no ${CHROMIUM}` }, async () => {
    const fromDay = psql(DB_ADMIN_URL, 'SELECT max(day) - 10 FROM api.energy_district_daily');
    const out = await inPage(
        async (client, lib, from) => {
            const list = await client.listDatasets({ lang: 'da' });
            const grouped = await client.records('energy-district-daily', { groupBy: 'district_id', measures: ['count'], filters: { day: `gte:${from}` } });
            let rows = 0;
            for await (const _ of client.recordsAll('energy-district-daily', { filters: { district_id: 1, day: `gte:${from}` }, limit: 3 })) rows += 1;
            const f1 = await client.emissionFactors();
            const f2 = await client.emissionFactors();
            let factors = 0;
            for await (const _ of client.downloadRows('emission-factors')) factors += 1;
            const pair = await lib.createPkcePair();
            const check = await lib.pkceChallenge(pair.codeVerifier);
            return {
                ids: list.datasets.map((d) => d.id),
                lang: list.lang,
                groups: grouped.data.map((g) => [g.district_id, g.count]),
                rows,
                sameFactors: JSON.stringify(f1) === JSON.stringify(f2),
                factors,
                pair,
                check,
                secure: globalThis.isSecureContext,
            };
        },
        fromDay,
    );
    assert.deepEqual(out.ids.sort(), psql(DB_ADMIN_URL, "SELECT string_agg(id, ',' ORDER BY id) FROM meta.datasets").split(','));
    assert.equal(out.lang, 'da');
    const sqlGroups = psql(DB_ADMIN_URL, `SELECT district_id, count(*) FROM api.energy_district_daily WHERE day >= '${fromDay}' GROUP BY 1 ORDER BY 1`)
        .split('\n')
        .map((l) => l.split('|').map(Number));
    assert.deepEqual(out.groups, sqlGroups);
    assert.equal(out.rows, Number(psql(DB_ADMIN_URL, `SELECT count(*) FROM api.energy_district_daily WHERE district_id = 1 AND day >= '${fromDay}'`)));
    assert.ok(out.sameFactors);
    assert.equal(out.factors, Number(psql(DB_ADMIN_URL, 'SELECT count(*) FROM api.emission_factors')));
    assert.match(out.pair.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(out.check, out.pair.codeChallenge);

    const toApi = requests.filter((r) => r.url.startsWith(api));
    assert.ok(toApi.length >= 8, `${toApi.length} API requests`);
    assert.ok(toApi.every((r) => r.method === 'GET'), `CORS-simple requests only, no preflight: ${toApi.map((r) => r.method).join(',')}`);
    assert.ok(toApi.every((r) => !('if-none-match' in r.headers) && !('authorization' in r.headers)), 'no non-safelisted header cross-origin');
    assert.ok(requests.every((r) => r.url.startsWith(api) || r.url.startsWith(appOrigin)), 'no request leaves the two local origins');
    assert.deepEqual(scriptErrors(), []);
});

test('in Chromium: a bad parameter surfaces as KlimaspejlError with the parameter name', { skip: !haveChromium && `no ${CHROMIUM}` }, async () => {
    const e = await inPage(async (client, lib) => {
        try {
            await client.records('energy-district-daily', { filters: { district_id: 'eq:x' } });
            return { thrown: false };
        } catch (err) {
            return { thrown: true, isKlima: err instanceof lib.KlimaspejlError, status: err.status, kind: err.kind, parameter: err.parameter, message: String(err.message) };
        }
    });
    assert.equal(e.thrown, true);
    assert.equal(e.isKlima, true, `a KlimaspejlError, not a CORS failure: ${e.message}`);
    assert.equal(e.status, 400);
    assert.equal(e.kind, 'invalid-parameter');
    assert.equal(e.parameter, 'district_id');
});

test('in Chromium, a third-party app on its own origin runs the whole consent flow with the helpers', { skip: !haveChromium && `no ${CHROMIUM}` }, async () => {
    // 1. the app: PKCE pair and state into sessionStorage, then off to the consent screen
    const authorizeUrl = await page.evaluate(
        async ({ src, apiBase, clientId: cid, origin }) => {
            const lib = await import(src);
            const client = new lib.KlimaspejlClient({ baseUrl: apiBase });
            const { codeVerifier, codeChallenge } = await lib.createPkcePair();
            const state = await lib.createState();
            sessionStorage.setItem('pkce', JSON.stringify({ codeVerifier, state }));
            return client.authorizeUrl({ clientId: cid, redirectUri: `${origin}/callback`, scope: ['summary:read'], state, codeChallenge, lang: 'en' });
        },
        { src: `${appOrigin}/src/index.js`, apiBase: api, clientId, origin: appOrigin },
    );
    await page.goto(authorizeUrl);
    // 2. the citizen: dev login as the first demo household, then approve
    await page.check(`input[name="household"][value="${household}"]`);
    await page.click('form[action="/oauth/login"] button[type="submit"]');
    await page.waitForSelector('button[name="decision"][value="approve"]');
    assert.match(await page.content(), /Browser app \(JS client test\)/);
    await Promise.all([page.waitForURL(`${appOrigin}/callback?**`, { timeout: 10_000 }), page.click('button[name="decision"][value="approve"]')]).catch((e) => {
        // Chromium applies the consent page's CSP form-action to the redirect that answers the form: it must allow the
        // origin of the app's redirect_uri, or the browser never reaches the app (net::ERR_ABORTED)
        throw new Error(`the browser did not follow the consent redirect to ${appOrigin}/callback: ${e.message}`);
    });
    // 3. back in the app: check state, exchange the code, call, revoke — all cross-origin from the page
    const before = requests.length;
    const out = await page.evaluate(
        async ({ src, apiBase, clientId: cid, origin, month: m }) => {
            const lib = await import(src);
            const { codeVerifier, state } = JSON.parse(sessionStorage.getItem('pkce'));
            const { code } = lib.parseRedirect(location.href, state);
            const client = new lib.KlimaspejlClient({ baseUrl: apiBase });
            const tokens = await client.exchangeCode({ clientId: cid, code, redirectUri: `${origin}/callback`, codeVerifier });
            client.setToken(tokens.access_token);
            const summary = await client.summary({ month: m, lang: 'en' });
            await client.revoke({ clientId: cid, token: tokens.refresh_token, tokenTypeHint: 'refresh_token' });
            let after = null;
            for (let i = 0; i < 40 && after === null; ++i) {
                try {
                    await client.summary({ month: m });
                    await new Promise((r) => setTimeout(r, 50));
                } catch (err) {
                    after = { isKlima: err instanceof lib.KlimaspejlError, status: err.status, kind: err.kind };
                }
            }
            return { scope: tokens.scope, month: summary.month, total: summary.total_co2e_kg, after };
        },
        { src: `${appOrigin}/src/index.js`, apiBase: api, clientId, origin: appOrigin, month },
    );
    assert.equal(out.scope, 'summary:read');
    assert.equal(out.month, month);
    assert.ok(Number.isFinite(out.total));
    assert.deepEqual(out.after, { isKlima: true, status: 401, kind: 'invalid-token' }, 'the revoked token is refused, readable cross-origin');
    const calls = requests.slice(before).filter((r) => r.url.startsWith(api));
    assert.ok(calls.some((r) => r.method === 'POST' && r.url.endsWith('/oauth/token')));
    assert.ok(calls.some((r) => r.method === 'GET' && r.url.includes('/v1/me/summary') && r.headers.authorization?.startsWith('Bearer ')));
    assert.ok(requests.every((r) => r.url.startsWith(api) || r.url.startsWith(appOrigin)), 'no request leaves the two local origins');
    assert.deepEqual(scriptErrors(), []);
});
