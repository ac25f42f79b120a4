// unit.test.mjs — the parts of @klimaspejl/client that need no klimaspejl server: PKCE (RFC 7636 S256) checked against
// node:crypto, Retry-After handling against a local node:http server that answers 429/503 before 200 (real sockets,
// real waits, counted), the ETag cache's 304 path, the redirect parser, the generated src/schema.d.ts being current
// with api-spec/openapi.yaml, and a TypeScript compile (tsc --noEmit, strict, checkJs) of the package and an example.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import {
    KlimaspejlClient,
    KlimaspejlError,
    VERSION,
    base64url,
    createPkcePair,
    createState,
    parseRedirect,
    parseRetryAfter,
    pkceChallenge,
    readNdjson,
    recordsSearchParams,
} from '../src/index.js';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.resolve(PKG, '../..');

// A local HTTP server whose answers a test scripts: each request shifts one handler off `script` (the last one
// repeats). Every request is recorded.
let server;
let base;
let script = [];
const seen = [];
before(async () => {
    server = http.createServer((req, res) => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, t: Date.now() });
        const h = script.length > 1 ? script.shift() : script[0];
        h(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
    server.closeAllConnections?.();
    server.close();
});
const reset = (...handlers) => {
    script = handlers;
    seen.length = 0;
};
const problem = (status, extra = {}, headers = {}) => (req, res) => {
    res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
    res.end(JSON.stringify({ type: '/docs/problems#too-many-requests', title: 'Too many requests', status, ...extra }));
};
const ok = (body, headers = {}) => (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
};

test('createPkcePair: 43-character verifier, challenge = base64url(sha256(verifier)), fresh each time', async () => {
    const a = await createPkcePair();
    const b = await createPkcePair();
    assert.equal(a.codeChallengeMethod, 'S256');
    assert.match(a.codeVerifier, /^[A-Za-z0-9_-]{43}$/, 'RFC 7636: 43-128 unreserved characters');
    assert.match(a.codeChallenge, /^[A-Za-z0-9_-]{43}$/, 'the server accepts exactly 43 base64url characters');
    const expected = crypto.createHash('sha256').update(a.codeVerifier, 'ascii').digest('base64url');
    assert.equal(a.codeChallenge, expected);
    assert.equal(await pkceChallenge(a.codeVerifier), expected);
    assert.notEqual(a.codeVerifier, b.codeVerifier);
    assert.notEqual(a.codeChallenge, b.codeChallenge);
    // RFC 7636 appendix B test vector
    assert.equal(await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    assert.equal(base64url(new Uint8Array([0xfb, 0xff, 0xfe])), '-__-');
    assert.match(await createState(), /^[A-Za-z0-9_-]{22}$/);
});

test('PKCE without a global crypto (Node 18) falls back to node:crypto webcrypto and stays correct', () => {
    const code = [
        "Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });",
        `const m = await import(${JSON.stringify(new URL('../src/pkce.js', import.meta.url).href)});`,
        'console.log(JSON.stringify(await m.createPkcePair()));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const pair = JSON.parse(r.stdout);
    assert.match(pair.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(pair.codeChallenge, crypto.createHash('sha256').update(pair.codeVerifier).digest('base64url'));
});

test('parseRetryAfter: delta-seconds and HTTP-date', () => {
    assert.equal(parseRetryAfter('7'), 7);
    assert.equal(parseRetryAfter(' 0 '), 0);
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter('soon'), null);
    const now = Date.parse('2025-03-01T12:00:00Z');
    assert.equal(parseRetryAfter('Sat, 01 Mar 2025 12:00:09 GMT', now), 9);
    assert.equal(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now), 0);
});

test('recordsSearchParams maps camelCase options to the API names; unknown options are refused', () => {
    const p = recordsSearchParams({
        filters: { district: 'eq:Nørrebro', day: ['gte:2025-01-01', 'lt:2025-02-01'], district_id: 3 },
        groupBy: ['district_id', 'day'],
        measures: ['sum:electricity_kwh', 'count'],
        order: ['-day'],
        bucket: 'month',
        tz: 'UTC',
        limit: 5,
        bom: true,
        cursor: 'abc',
    });
    assert.deepEqual(p.getAll('day'), ['gte:2025-01-01', 'lt:2025-02-01']);
    assert.equal(p.get('district'), 'eq:Nørrebro');
    assert.equal(p.get('district_id'), '3');
    assert.equal(p.get('group_by'), 'district_id,day');
    assert.equal(p.get('measures'), 'sum:electricity_kwh,count');
    assert.equal(p.get('order'), '-day');
    assert.equal(p.get('bom'), '1');
    assert.equal(p.get('cursor'), 'abc');
    assert.throws(() => recordsSearchParams({ grupBy: 'x' }), /unknown option 'grupBy'/);
});

test('parseRedirect returns the code, refuses a different state, and surfaces error=access_denied', () => {
    assert.deepEqual(parseRedirect('http://localhost:9/cb?code=abc&state=s1', 's1'), { code: 'abc', state: 's1' });
    assert.throws(() => parseRedirect('http://localhost:9/cb?code=abc&state=evil', 's1'), (e) => e instanceof KlimaspejlError && e.error === 'invalid_state');
    assert.throws(
        () => parseRedirect('http://localhost:9/cb?error=access_denied&state=s1', 's1'),
        (e) => e instanceof KlimaspejlError && e.error === 'access_denied',
    );
});

test('VERSION matches package.json', () => {
    assert.equal(VERSION, JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8')).version);
});

test('429 with Retry-After: waits that long, then returns the 200 answer', async () => {
    reset(problem(429, {}, { 'retry-after': '1' }), ok({ hello: 'world' }));
    const retries = [];
    const c = new KlimaspejlClient({ baseUrl: base, onRetry: (i) => retries.push(i) });
    const t0 = Date.now();
    const body = await c.emissionFactors();
    const ms = Date.now() - t0;
    assert.deepEqual(body, { hello: 'world' });
    assert.equal(seen.length, 2, 'one retry');
    assert.ok(seen[1].t - seen[0].t >= 950, `the retry came ${seen[1].t - seen[0].t} ms after the 429 (Retry-After: 1)`);
    assert.ok(ms < 5000, `${ms} ms`);
    assert.deepEqual(retries.map((r) => [r.attempt, r.status, r.waitSeconds]), [[1, 429, 1]]);
});

test('503 with Retry-After is retried too (also for POST), and Retry-After is capped by maxRetryDelay', async () => {
    reset(problem(503, { type: '/docs/problems#busy' }, { 'retry-after': '3600' }), ok({ id: 1, received_at: 'now' }));
    const c = new KlimaspejlClient({ baseUrl: base, maxRetryDelay: 0.3 });
    const t0 = Date.now();
    const r = await c.feedback({ topic: 'idea', rating: 5 });
    assert.equal(r.id, 1);
    assert.equal(seen.length, 2);
    assert.equal(seen[1].method, 'POST');
    const ms = Date.now() - t0;
    assert.ok(ms >= 280 && ms < 3000, `waited ${ms} ms, not an hour`);
});

test('retries stop after maxRetries: the last 429 surfaces as a KlimaspejlError with retryAfter', async () => {
    reset(problem(429, { detail: 'slow down' }, { 'retry-after': '0' }));
    const c = new KlimaspejlClient({ baseUrl: base, maxRetries: 2 });
    await assert.rejects(c.listDatasets(), (e) => {
        assert.ok(e instanceof KlimaspejlError);
        assert.equal(e.status, 429);
        assert.equal(e.kind, 'too-many-requests');
        assert.equal(e.detail, 'slow down');
        assert.equal(e.retryAfter, 0);
        return true;
    });
    assert.equal(seen.length, 3, '1 try + 2 retries');
    reset(problem(429, {}, { 'retry-after': '0' }));
    await assert.rejects(new KlimaspejlClient({ baseUrl: base, maxRetries: 0 }).listDatasets(), /429/);
    assert.equal(seen.length, 1, 'maxRetries: 0 never retries');
});

test('an abort during the Retry-After wait rejects at once', async () => {
    reset(problem(429, {}, { 'retry-after': '30' }));
    const c = new KlimaspejlClient({ baseUrl: base });
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(new Error('stop')), 200);
    await assert.rejects(c.listDatasets({ signal: ac.signal }), /stop/);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(seen.length, 1);
});

test('ETag cache: If-None-Match is sent, a 304 returns the remembered body, and callers cannot corrupt it', async () => {
    const etag = '"7-abc"';
    const body = { dataset: 'x', version: 7, count: 1, data: [{ a: 1 }], next_cursor: null, links: {} };
    reset((req, res) => {
        if (req.headers['if-none-match'] === etag) {
            res.writeHead(304, { etag });
            res.end();
        } else ok(body, { etag })(req, res);
    });
    const c = new KlimaspejlClient({ baseUrl: base });
    const first = await c.records('x', { limit: 1 });
    first.data[0].a = 999; // the caller's copy, not the cache's
    const second = await c.records('x', { limit: 1 });
    assert.deepEqual(second, body);
    assert.equal(seen.length, 2);
    assert.equal(seen[0].headers['if-none-match'], undefined);
    assert.equal(seen[1].headers['if-none-match'], etag);
    // another query is another cache entry; etagCache: false never revalidates
    await c.records('x', { limit: 2 });
    assert.equal(seen[2].headers['if-none-match'], undefined);
    const plain = new KlimaspejlClient({ baseUrl: base, etagCache: false });
    await plain.records('x', { limit: 1 });
    await plain.records('x', { limit: 1 });
    assert.equal(seen[4].headers['if-none-match'], undefined);
    // the cache keeps at most etagCacheSize answers
    const small = new KlimaspejlClient({ baseUrl: base, etagCacheSize: 1 });
    await small.records('x', { limit: 1 });
    await small.records('x', { limit: 2 });
    await small.records('x', { limit: 1 });
    assert.equal(seen[7].headers['if-none-match'], undefined, 'the oldest entry was dropped');
});

test('non-problem errors and a problem without parameter still give a KlimaspejlError; user agent and token are sent', async () => {
    reset((req, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<h1>Bad gateway</h1>');
    });
    const c = new KlimaspejlClient({ baseUrl: `${base}/`, token: async () => 'tok-1', userAgent: 'test-agent/1' });
    await assert.rejects(c.summary({ month: '2025-01' }), (e) => e instanceof KlimaspejlError && e.status === 502 && e.body === '<h1>Bad gateway</h1>');
    assert.equal(seen[0].url, '/v1/me/summary?month=2025-01');
    assert.equal(seen[0].headers.authorization, 'Bearer tok-1');
    assert.equal(seen[0].headers['user-agent'], 'test-agent/1');
    // the open-data routes never carry the consent token
    reset(ok({ datasets: [], count: 0, lang: 'en' }));
    await c.listDatasets();
    assert.equal(seen[0].headers.authorization, undefined);
});

test('readNdjson splits lines across chunk boundaries and multi-byte characters', async () => {
    const bytes = new TextEncoder().encode('{"a":"Nørrebro"}\n\n{"a":2}\n{"a":3}');
    const chunks = [bytes.subarray(0, 9), bytes.subarray(9, 10), bytes.subarray(10, 21), bytes.subarray(21)];
    const stream = new ReadableStream({
        start(ctrl) {
            for (const c of chunks) ctrl.enqueue(c);
            ctrl.close();
        },
    });
    const out = [];
    for await (const o of readNdjson(stream)) out.push(o);
    assert.deepEqual(out, [{ a: 'Nørrebro' }, { a: 2 }, { a: 3 }]);
});

test('src/schema.d.ts is what openapi-typescript generates from api-spec/openapi.yaml now', { timeout: 180_000 }, () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-jsclient-'));
    try {
        const out = path.join(tmp, 'schema.d.ts');
        const cli = path.join(PKG, 'node_modules/openapi-typescript/bin/cli.js');
        const r = spawnSync(process.execPath, [cli, path.join(ROOT, 'api-spec/openapi.yaml'), '--output', out], {
            cwd: PKG,
            encoding: 'utf8',
            timeout: 170_000,
        });
        assert.equal(r.status, 0, `openapi-typescript failed: ${r.stdout}${r.stderr}`);
        const fresh = fs.readFileSync(out, 'utf8');
        const committed = fs.readFileSync(path.join(PKG, 'src/schema.d.ts'), 'utf8');
        assert.ok(fresh.includes('export interface paths'), 'the generator produced the paths interface');
        if (committed !== fresh) {
            const a = committed.split('\n');
            const b = fresh.split('\n');
            let i = 0;
            while (i < a.length && a[i] === b[i]) ++i;
            assert.fail(
                `src/schema.d.ts is stale: run \`npm run generate\` in clients/js and commit it. First difference at line ${i + 1}:\n` +
                    `  committed: ${a[i]}\n  generated: ${b[i]}`,
            );
        }
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

test('TypeScript: tsc --noEmit (strict, checkJs) accepts the package, its JSDoc types and test/types/example.ts', { timeout: 180_000 }, () => {
    // One compile of everything in tsconfig.json plus a file that misuses a result: the misuse must be the only error,
    // so the package itself is clean and its types have teeth (a DatasetList is not a number, not `any`).
    const tsc = path.join(PKG, 'node_modules/typescript/bin/tsc');
    const bad = path.join(PKG, 'test/types/bad.tmp.ts');
    const config = path.join(PKG, 'test/types/tsconfig.tmp.json');
    const base = JSON.parse(fs.readFileSync(path.join(PKG, 'tsconfig.json'), 'utf8'));
    fs.writeFileSync(bad, "import { KlimaspejlClient } from '@klimaspejl/client';\nexport const n: number = await new KlimaspejlClient().listDatasets();\n");
    fs.writeFileSync(config, JSON.stringify({ extends: '../../tsconfig.json', include: [...base.include.map((p) => `../../${p}`), 'bad.tmp.ts'] }));
    try {
        const r = spawnSync(process.execPath, [tsc, '--project', config], { cwd: PKG, encoding: 'utf8', timeout: 170_000 });
        const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
        assert.equal(errors.length, 1, `exactly the planted error, got:\n${r.stdout}${r.stderr}`);
        assert.match(errors[0], /^test\/types\/bad\.tmp\.ts\(2,14\): error TS2322: Type '\{ datasets: \{ id: string.*not assignable to type 'number'/);
    } finally {
        fs.rmSync(bad, { force: true });
        fs.rmSync(config, { force: true });
    }
});
