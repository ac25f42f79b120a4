// metrics.test.mjs — GET /metrics (Prometheus text format) and the JSON access log on stdout, against a real server and
// the seeded test database.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, h2request, request, runCli, sleep, startServer, waitReady } from './harness.mjs';

const RECORDS = '/v1/datasets/{id}/records';

// Parses the exposition text into { types: Map(name -> type), helps: Set(name), samples: [{ name, labels, value }] },
// checking the syntax as it goes: every sample belongs to a family announced by # HELP and # TYPE before it.
function parseExposition(text) {
    const types = new Map();
    const helps = new Set();
    const samples = [];
    assert.ok(text.endsWith('\n'), 'the text ends with a newline');
    for (const line of text.slice(0, -1).split('\n')) {
        let m;
        if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
            helps.add(m[1]);
            continue;
        }
        if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
            assert.ok(helps.has(m[1]), `# HELP before # TYPE for ${m[1]}`);
            assert.ok(!types.has(m[1]), `one # TYPE line for ${m[1]}`);
            types.set(m[1], m[2]);
            continue;
        }
        m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        assert.ok(m, `a sample line: ${JSON.stringify(line)}`);
        const labels = {};
        const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
        if (m[2] !== undefined) {
            let l;
            let end = 0;
            while ((l = re.exec(m[2])) !== null) {
                labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
                end = re.lastIndex;
            }
            assert.equal(end, m[2].length, `label syntax: ${line}`);
        }
        const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
        assert.ok(!Number.isNaN(value), `a numeric value: ${line}`);
        const family = types.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '');
        assert.ok(types.has(family), `# TYPE announced before ${m[1]}`);
        samples.push({ name: m[1], labels, value });
    }
    return { types, samples };
}

const sum = (samples, name, match = {}) =>
    samples
        .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
        .reduce((a, s) => a + s.value, 0);

async function scrape(port) {
    const r = await request(port, { path: '/metrics' });
    assert.equal(r.status, 200, r.body);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4\b/);
    return parseExposition(r.body);
}

describe('GET /metrics and the access log', () => {
    let srv;
    let port;
    let stdout = '';
    let datasetId;
    const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-metrics-keys-'));

    before(async () => {
        const k = runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keysDir } });
        assert.equal(k.status, 0, k.stderr);
        srv = await startServer({ env: { KLIMA_ACCESS_LOG: '1', KLIMA_KEYS_DIR: keysDir } });
        port = srv.port;
        srv.proc.stdout.on('data', (d) => (stdout += d));
        await waitReady(port);
        const list = await request(port, { path: '/v1/datasets' });
        assert.equal(list.status, 200, list.body);
        const body = JSON.parse(list.body);
        const datasets = Array.isArray(body) ? body : body.datasets || body.data;
        datasetId = datasets.map((d) => d.id).find((id) => /district/.test(id)) || datasets[0].id;
    });
    after(async () => {
        if (srv && srv.exited() === null) assertCleanExit(assert, await srv.stop());
        fs.rmSync(keysDir, { recursive: true, force: true });
    });

    test('requests are counted by route, method and status; histograms agree; gauges are there', async () => {
        const before = await scrape(port);
        const count = (p, labels) => sum(p.samples, 'klimaspejl_http_requests_total', labels);

        for (let i = 0; i < 3; ++i) assert.equal((await request(port, { path: '/healthz' })).status, 200);
        assert.equal((await h2request(port, { path: '/healthz' })).status, 200);
        for (let i = 0; i < 2; ++i) assert.equal((await request(port, { method: 'POST', path: '/healthz' })).status, 405);
        for (let i = 0; i < 2; ++i) assert.equal((await request(port, { path: '/no/such/thing?marker=zq81x' })).status, 404);
        const rec = await request(port, { path: `/v1/datasets/${datasetId}/records?limit=2` });
        assert.equal(rec.status, 200, rec.body);

        const want = [
            [{ route: '/healthz', method: 'GET', status: '200' }, 4],
            [{ route: '/healthz', method: 'POST', status: '405' }, 2],
            [{ route: 'not_found', method: 'GET', status: '404' }, 2],
            [{ route: RECORDS, method: 'GET', status: '200' }, 1],
        ];
        // requests are counted when h2o disposes them, a moment after the client has the response; the cache and pool
        // figures of the worker that did not answer the scrape are copied once a second
        const cacheLookups = (p) => sum(p.samples, 'klimaspejl_cache_hits_total') + sum(p.samples, 'klimaspejl_cache_misses_total');
        let now;
        for (let tries = 0; ; ++tries) {
            now = await scrape(port);
            const counted = want.every(([labels, n]) => count(now, labels) - count(before, labels) === n);
            if ((counted && cacheLookups(now) >= 1) || tries === 60) break;
            await sleep(50);
        }
        for (const [labels, n] of want) {
            assert.equal(count(now, labels) - count(before, labels), n, `requests ${JSON.stringify(labels)}`);
        }
        assert.equal(now.types.get('klimaspejl_http_requests_total'), 'counter');
        assert.equal(now.types.get('klimaspejl_http_request_duration_seconds'), 'histogram');

        // each route's histogram: cumulative buckets, +Inf = _count = the route's requests, a sum in seconds
        const H = 'klimaspejl_http_request_duration_seconds';
        const routes = new Set(now.samples.filter((s) => s.name === `${H}_count`).map((s) => s.labels.route));
        for (const route of [...routes].filter((r) => r !== '/metrics')) {
            const buckets = now.samples.filter((s) => s.name === `${H}_bucket` && s.labels.route === route);
            const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
            assert.deepEqual(les, [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity]);
            for (let i = 1; i < buckets.length; ++i) assert.ok(buckets[i].value >= buckets[i - 1].value, `cumulative buckets of ${route}`);
            const total = sum(now.samples, `${H}_count`, { route });
            assert.equal(buckets.at(-1).value, total, `+Inf bucket = _count for ${route}`);
            assert.equal(total, count(now, { route }), `_count = requests for ${route}`);
            const s = sum(now.samples, `${H}_sum`, { route });
            assert.ok(s >= 0 && s < total * 10, `_sum of ${route} in seconds: ${s}`);
        }
        assert.ok(sum(now.samples, `${H}_count`, { route: RECORDS }) >= 1);

        // database, cache and the other families
        const ready = sum(now.samples, 'klimaspejl_db_connections', { state: 'ready' });
        const total = sum(now.samples, 'klimaspejl_db_connections', { state: 'total' });
        assert.ok(ready >= 1 && total >= ready, `db connections ready ${ready}, total ${total}`);
        assert.ok(sum(now.samples, 'klimaspejl_db_queries_total', { result: 'ok' }) >= 1);
        for (const name of [
            'klimaspejl_db_queries_total',
            'klimaspejl_db_in_flight',
            'klimaspejl_cache_hits_total',
            'klimaspejl_cache_misses_total',
            'klimaspejl_cache_bytes',
            'klimaspejl_token_rejections_total',
            'klimaspejl_ratelimit_hits_total',
            'klimaspejl_ratelimit_sync_failures_total',
            'klimaspejl_http2_bodies_refused_total',
            'klimaspejl_downloads_active',
            'klimaspejl_usage_flush_lag_seconds',
            'klimaspejl_build_info',
        ]) {
            assert.ok(now.types.has(name), `family ${name}`);
            assert.ok(now.samples.some((s) => s.name === name), `a sample of ${name}`);
        }
        assert.ok(cacheLookups(now) >= 1, 'the records query went through the response cache');
        const lag = sum(now.samples, 'klimaspejl_usage_flush_lag_seconds');
        assert.ok(lag >= 0 && lag < 30, `usage flush lag ${lag} s`);
        assert.ok(now.samples.some((s) => s.name === 'klimaspejl_build_info' && /^\d+\.\d+\.\d+/.test(s.labels.version) && s.value === 1));
        assert.ok(now.samples.some((s) => s.name === 'klimaspejl_token_rejections_total' && s.labels.reason === 'missing'));
    });

    test('refused tokens are counted by reason', async () => {
        const T = 'klimaspejl_token_rejections_total';
        const before = await scrape(port);
        assert.equal((await request(port, { path: '/v1/me/summary?month=2025-01' })).status, 401);
        const bad = await request(port, { path: '/v1/me/summary?month=2025-01', headers: { authorization: 'Bearer abc.def.ghi' } });
        assert.equal(bad.status, 401);
        const delta = (now, reason) => sum(now.samples, T, { reason }) - sum(before.samples, T, { reason });
        let now;
        for (let tries = 0; tries < 20; ++tries) {
            now = await scrape(port);
            if (delta(now, 'missing') + delta(now, 'malformed') === 2) break;
            await sleep(50);
        }
        assert.equal(delta(now, 'missing'), 1);
        assert.equal(delta(now, 'malformed'), 1);
        assert.equal(sum(now.samples, T) - sum(before.samples, T), 2);
    });

    test('access log: one JSON line per request on stdout, no address, no query string', async () => {
        await request(port, { path: '/healthz?who=zq82y' });
        await request(port, { method: 'POST', path: '/healthz' });
        await h2request(port, { path: '/no/such/place?x=zq83z' });
        // lines are flushed every 100 ms
        const deadline = Date.now() + 3000;
        while (Date.now() < deadline && !stdout.includes('"route":"not_found","method":"GET","status":404')) await sleep(50);
        await sleep(250);

        const lines = stdout.split('\n').filter((l) => l !== '');
        assert.ok(lines.length >= 10, `access log lines: ${lines.length}`);
        for (const line of lines) {
            const e = JSON.parse(line);
            assert.deepEqual(Object.keys(e), ['ts', 'route', 'method', 'status', 'duration_ms', 'bytes', 'country', 'proto'], line);
            assert.match(e.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
            assert.ok(Number.isInteger(e.status) && Number.isFinite(e.duration_ms) && e.duration_ms >= 0 && Number.isInteger(e.bytes), line);
            assert.match(e.country, /^[A-Z]{2}$/);
            assert.ok(e.proto === '1.1' || e.proto === '2', line);
            assert.ok(!e.route.includes('?'), `no query string: ${line}`);
        }
        assert.ok(!stdout.includes('127.0.0.1'), 'no IP address in the access log');
        assert.ok(!/zq8\d[a-z]/.test(stdout), 'no query value in the access log');
        assert.ok(!/Bearer|authorization/i.test(stdout), 'no token in the access log');
        const find = (f) => lines.map((l) => JSON.parse(l)).filter(f);
        assert.ok(find((e) => e.route === '/healthz' && e.method === 'GET' && e.status === 200 && e.proto === '1.1').length >= 4);
        assert.ok(find((e) => e.route === '/healthz' && e.method === 'GET' && e.status === 200 && e.proto === '2').length >= 1);
        assert.ok(find((e) => e.route === '/healthz' && e.method === 'POST' && e.status === 405).length >= 3);
        assert.ok(find((e) => e.route === 'not_found' && e.status === 404 && e.proto === '2').length >= 1);
        const recs = find((e) => e.route === RECORDS && e.status === 200);
        assert.ok(recs.length >= 1 && recs[0].bytes > 0, 'the records query is logged with its size');
        assert.ok(find((e) => e.route === '/metrics' && e.status === 200).length >= 1);
    });

    test('KLIMA_ACCESS_LOG=0 writes nothing on stdout', async () => {
        const quiet = await startServer({ env: { KLIMA_ACCESS_LOG: '0' } });
        let out = '';
        quiet.proc.stdout.on('data', (d) => (out += d));
        try {
            for (let i = 0; i < 3; ++i) assert.equal((await request(quiet.port, { path: '/healthz' })).status, 200);
            await sleep(300);
            assert.equal(out, '');
        } finally {
            assertCleanExit(assert, await quiet.stop());
        }
    });
});
