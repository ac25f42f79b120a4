// limits.test.mjs — the connection and request limits of `serve`: connections per process (the ones beyond the cap are
// closed at once, the server stays healthy and counts them in /metrics), the HTTP/1.1 request deadline against slow
// clients (slowloris) and idle keep-alive connections, the HTTP/2 idle timeout, HTTP/2 concurrent streams
// (SETTINGS_MAX_CONCURRENT_STREAMS advertised, streams beyond it refused with REFUSED_STREAM per RFC 9113 §5.1.2, the
// per-connection processing limit queues instead of refusing), and the request body limit (413 problem+json over
// HTTP/1.1 and over HTTP/2, where the rest of the body is dropped unread).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, rawExchange, request, runCli, sleep, startServer } from './harness.mjs';
import { FLAG, FRAME, getHeaders, headerBlock, RawH2 } from './h2raw.mjs';

const MAX_CONNECTIONS = 8;
const MAX_BODY = 4096;

// Opens a TCP connection and resolves when it is connected; `closedAt` resolves with the time the server closed it.
function connect(port) {
    return new Promise((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1');
        const chunks = [];
        sock.closedAt = new Promise((res) => sock.once('close', () => res(Date.now())));
        sock.on('data', (c) => chunks.push(c));
        sock.received = () => Buffer.concat(chunks);
        sock.once('connect', () => resolve(sock));
        sock.once('error', (e) => (sock.connecting ? reject(e) : null));
        sock.on('error', () => {});
    });
}

// An HTTP/2 (h2c) session with one request answered, so the server has surely accepted it.
async function h2session(port, opts = {}) {
    const session = http2.connect(`http://127.0.0.1:${port}`, opts);
    session.on('error', () => {});
    const status = await new Promise((resolve, reject) => {
        const s = session.request({ ':path': '/healthz' });
        s.on('response', (h) => resolve(h[':status']));
        s.on('error', reject);
        s.resume();
        s.end();
    });
    assert.equal(status, 200);
    return session;
}

// POSTs body to /v1/feedback on session: with its content-length, or (contentLength false) as 1 MiB writes without one.
// Resolves { status, type, body, rstCode, ms } once the stream has closed, whether or not the whole body was sent.
function h2post(session, body, { contentLength = true, path: p = '/v1/feedback' } = {}) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        const headers = { ':method': 'POST', ':path': p, 'content-type': 'application/json' };
        if (contentLength) headers['content-length'] = String(body.length);
        const s = session.request(headers);
        let status = null, type = null;
        const chunks = [];
        s.on('response', (h) => {
            status = h[':status'];
            type = String(h['content-type']);
        });
        s.on('data', (c) => chunks.push(c));
        s.on('error', () => {});
        s.on('close', () => resolve({ status, type, body: Buffer.concat(chunks).toString('utf8'), rstCode: s.rstCode, ms: Date.now() - t0 }));
        if (contentLength) {
            s.end(body);
        } else {
            for (let off = 0; off < body.length; off += 1048576) s.write(body.subarray(off, off + 1048576));
            s.end();
        }
    });
}

async function metric(port, name) {
    const r = await request(port, { path: '/metrics' });
    assert.equal(r.status, 200);
    const line = r.body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
}

// HPACK for a GET of `/` (indexed :method GET, :scheme http, :path /; :authority as a literal without indexing).
const HEADER_BLOCK = Buffer.concat([Buffer.from([0x82, 0x86, 0x84, 0x01, 9]), Buffer.from('localhost')]);

function frame(type, flags, streamId, payload = Buffer.alloc(0)) {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(streamId, 5);
    return Buffer.concat([h, payload]);
}

// Splits a byte stream into HTTP/2 frames { type, flags, streamId, payload }.
function parseFrames(buf) {
    const out = [];
    for (let off = 0; off + 9 <= buf.length; ) {
        const len = buf.readUIntBE(off, 3);
        if (off + 9 + len > buf.length) break;
        out.push({ type: buf[off + 3], flags: buf[off + 4], streamId: buf.readUInt32BE(off + 5) & 0x7fffffff, payload: buf.subarray(off + 9, off + 9 + len) });
        off += 9 + len;
    }
    return out;
}

describe('limits: connections per process, HTTP/2 streams, body size', () => {
    let srv;

    before(async () => {
        srv = await startServer({
            env: {
                KLIMA_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
                KLIMA_MAX_BODY_BYTES: String(MAX_BODY),
                KLIMA_REQUEST_TIMEOUT_MS: '30000',
                KLIMA_IDLE_TIMEOUT_MS: '30000',
                KLIMA_H2_MAX_STREAMS: '2',
                KLIMA_ACCESS_LOG: '0',
            },
        });
        await sleep(200); // the readiness probes' connections are closed by now
    });

    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    test('serve --help documents every limit with its default', async () => {
        const r = runCli(['serve', '--help']);
        assert.equal(r.status, 0);
        for (const [flag, env, def] of [
            ['--max-connections', 'KLIMA_MAX_CONNECTIONS', '16384'],
            ['--h2-max-streams', 'KLIMA_H2_MAX_STREAMS', '100'],
            ['--max-body-bytes', 'KLIMA_MAX_BODY_BYTES', '65536'],
            ['--request-timeout-ms', 'KLIMA_REQUEST_TIMEOUT_MS', '10000'],
            ['--idle-timeout-ms', 'KLIMA_IDLE_TIMEOUT_MS', '30000'],
            ['--tls-handshake-timeout-ms', 'KLIMA_TLS_HANDSHAKE_TIMEOUT_MS', '10000'],
        ]) {
            const line = (r.stdout + r.stderr).split('\n').find((l) => l.includes(flag));
            assert.ok(line, `${flag} missing from serve --help`);
            assert.ok(line.includes(env) && line.includes(`(default ${def})`), line);
        }
        const bad = runCli(['serve', '--max-connections', '0']);
        assert.equal(bad.status, 2, bad.stderr);
        assert.match(bad.stderr, /--max-connections \(KLIMA_MAX_CONNECTIONS\): '0' is not a whole number from 1 to 1048576/);
    });

    test('oversize body over HTTP/1.1: 413 problem+json, with Content-Length and chunked', async () => {
        const body = JSON.stringify({ topic: 'idea', message: 'x'.repeat(MAX_BODY) });
        let r = await request(srv.port, { method: 'POST', path: '/v1/feedback', headers: { 'content-type': 'application/json' }, body });
        assert.equal(r.status, 413, r.body);
        assert.match(r.headers['content-type'], /^application\/problem\+json/);
        let p = JSON.parse(r.body);
        assert.equal(p.type, '/docs/problems#payload-too-large');
        assert.equal(p.status, 413);
        assert.equal(p.detail, `The request body may be at most ${MAX_BODY} bytes.`);
        // chunked: refused once the limit is crossed, before the body ends
        const chunk = 'y'.repeat(1500);
        const raw = `POST /v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
            `${(1500).toString(16)}\r\n${chunk}\r\n`.repeat(4);
        const x = await rawExchange(srv.port, raw, { waitMs: 5000 });
        assert.equal(x.statusCode, 413, x.data.toString('latin1'));
        const text = x.data.toString('utf8');
        assert.match(text, /content-type: application\/problem\+json/i);
        p = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
        assert.equal(p.type, '/docs/problems#payload-too-large');
        // a broken chunked body is a 400 problem
        const broken = await rawExchange(srv.port, 'POST /v1/feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', { waitMs: 5000 });
        assert.equal(broken.statusCode, 400);
        assert.match(broken.data.toString('utf8'), /"type":"\/docs\/problems#bad-request"/);
        // a body within the limit reaches the route (which answers for itself)
        r = await request(srv.port, { method: 'POST', path: '/v1/feedback', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.notEqual(r.status, 413);
        assert.ok(r.status < 500, r.body);
    });

    test('a 10 MB body over HTTP/1.1: the 413 reaches the client every time (lingering close), with Content-Length and chunked', async () => {
        const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
        const post = (chunked) =>
            new Promise((resolve) => {
                const headers = { 'content-type': 'application/json', ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': big.length }) };
                const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: '/v1/feedback', headers, agent: false }, (res) => {
                    const chunks = [];
                    res.on('data', (c) => chunks.push(c));
                    res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
                    res.on('error', (e) => resolve({ status: res.statusCode, error: e.code }));
                });
                req.on('error', (e) => resolve({ error: e.code }));
                if (chunked) for (let i = 0; i < 10; ++i) req.write(big.subarray(i * 1048576, (i + 1) * 1048576));
                req.end(chunked ? undefined : big);
            });
        for (let i = 0; i < 5; ++i) {
            for (const chunked of [false, true]) {
                const r = await post(chunked);
                assert.equal(r.status, 413, `attempt ${i + 1}, ${chunked ? 'chunked' : 'Content-Length'}: ${JSON.stringify(r).slice(0, 300)}`);
                assert.match(String(r.type), /^application\/problem\+json/);
                assert.equal(JSON.parse(r.body).type, '/docs/problems#payload-too-large');
            }
        }
    });

    test('oversize body over HTTP/2: 413 problem+json, the connection lives on', async () => {
        const session = await h2session(srv.port);
        try {
            const r = await h2post(session, Buffer.alloc(MAX_BODY * 2, 0x61));
            assert.equal(r.status, 413, JSON.stringify(r));
            assert.match(r.type, /^application\/problem\+json/);
            assert.equal(JSON.parse(r.body).detail, `The request body may be at most ${MAX_BODY} bytes.`);
            const ok = await new Promise((resolve, reject) => {
                const s = session.request({ ':path': '/healthz' });
                s.on('response', (h) => resolve(h[':status']));
                s.on('error', reject);
                s.resume();
                s.end();
            });
            assert.equal(ok, 200);
        } finally {
            session.close();
        }
    });

    test('HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS 100 advertised; streams beyond it are refused with REFUSED_STREAM', async () => {
        const session = await h2session(srv.port);
        assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
        session.close();

        // A raw client that ignores the setting: 110 requests whose bodies never come keep their streams open.
        const sock = await connect(srv.port);
        try {
            const frames = [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0)];
            for (let i = 0; i < 110; ++i) frames.push(frame(1, 0x4 /* END_HEADERS, no END_STREAM */, 1 + 2 * i, HEADER_BLOCK));
            sock.write(Buffer.concat(frames));
            const deadline = Date.now() + 5000;
            let resets = [];
            while (Date.now() < deadline) {
                await sleep(100);
                resets = parseFrames(sock.received()).filter((f) => f.type === 3);
                if (resets.length >= 10) break;
            }
            const all = parseFrames(sock.received());
            assert.equal(all.filter((f) => f.type === 7).length, 0, 'no GOAWAY');
            assert.deepEqual(resets.map((f) => f.streamId), Array.from({ length: 10 }, (_, i) => 1 + 2 * (100 + i)));
            for (const f of resets) assert.equal(f.payload.readUInt32BE(0), http2.constants.NGHTTP2_REFUSED_STREAM);
        } finally {
            sock.destroy();
        }
    });

    test('HTTP/2: more requests than KLIMA_H2_MAX_STREAMS on one connection wait their turn and all succeed', async () => {
        const session = await h2session(srv.port);
        try {
            const statuses = await Promise.all(
                Array.from({ length: 20 }, () =>
                    new Promise((resolve, reject) => {
                        const s = session.request({ ':path': '/readyz' });
                        s.on('response', (h) => resolve(h[':status']));
                        s.on('error', reject);
                        s.resume();
                        s.end();
                    }),
                ),
            );
            assert.deepEqual(statuses, Array(20).fill(200));
        } finally {
            session.close();
        }
    });

    test(`connections beyond KLIMA_MAX_CONNECTIONS=${MAX_CONNECTIONS} are closed at once; the server stays healthy`, async () => {
        await sleep(200);
        const refusedBefore = await metric(srv.port, 'klimaspejl_http_connections_refused_total');
        assert.equal(typeof refusedBefore, 'number');
        await sleep(200);
        const held = [];
        for (let i = 0; i < MAX_CONNECTIONS; ++i) held.push(await h2session(srv.port));
        try {
            // the extra ones: accepted by the kernel, then closed by the server without an answer
            const t0 = Date.now();
            const extra = await Promise.all(
                Array.from({ length: 4 }, () => rawExchange(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 5000 })),
            );
            for (const x of extra) {
                assert.equal(x.closed, true, 'closed by the server');
                assert.equal(x.statusCode, null, x.data.toString('latin1'));
            }
            assert.ok(Date.now() - t0 < 3000, 'closed at once, not after a timeout');
            // the held connections still work
            for (const s of held) {
                const st = await new Promise((resolve, reject) => {
                    const r = s.request({ ':path': '/healthz' });
                    r.on('response', (h) => resolve(h[':status']));
                    r.on('error', reject);
                    r.resume();
                    r.end();
                });
                assert.equal(st, 200);
            }
        } finally {
            for (const s of held) s.close();
        }
        // freed slots are usable again at once
        await sleep(300);
        const r = await request(srv.port, { path: '/healthz' });
        assert.equal(r.status, 200);
        assert.ok((await metric(srv.port, 'klimaspejl_http_connections_refused_total')) >= refusedBefore + 4);
        // the held sessions' closes reach the server on its own schedule (GOAWAY, then FIN) on a loaded machine
        for (const t0 = Date.now(); (await metric(srv.port, 'klimaspejl_http_connections')) > 1 && Date.now() - t0 < 2000; await sleep(100));
        assert.equal(await metric(srv.port, 'klimaspejl_http_connections'), 1, 'only the scrape itself is open');
    });
});

// The body limit over HTTP/2 at its default (64 KiB: a client that keeps to flow control cannot send more than 65,535
// bytes before it has the server's SETTINGS, so even a connection's first flight is answered 413, never refused).
describe('limits: HTTP/2 request bodies over KLIMA_MAX_BODY_BYTES get 413', () => {
    const LIMIT = 65536;
    const BIG = Buffer.alloc(10 * 1024 * 1024, 0x61);
    let srv;

    // The server's memory in KiB: { rss, hwm } (VmRSS, and VmHWM, its peak since start).
    function memory() {
        const st = fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8');
        return { rss: Number(/VmRSS:\s+(\d+)/.exec(st)[1]), hwm: Number(/VmHWM:\s+(\d+)/.exec(st)[1]) };
    }

    function assertRefused(r, what) {
        assert.equal(r.status, 413, `${what}: ${JSON.stringify(r).slice(0, 300)}`);
        assert.match(r.type, /^application\/problem\+json/, what);
        const p = JSON.parse(r.body);
        assert.equal(p.type, '/docs/problems#payload-too-large', what);
        assert.equal(p.detail, `The request body may be at most ${LIMIT} bytes.`, what);
        // the stream ends cleanly: the 413 was complete, then RST_STREAM NO_ERROR stopped the upload (RFC 9113 8.1)
        assert.equal(r.rstCode, http2.constants.NGHTTP2_NO_ERROR, what); // closed normally: the upload was read to its end
    }

    before(async () => {
        // a small ASan quarantine (as faults.test.mjs): freed buffers would otherwise pile up in it and hide what the
        // server really holds
        const asan = `${process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=4`;
        srv = await startServer({ env: { KLIMA_ACCESS_LOG: '0', ASAN_OPTIONS: asan } });
    });

    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    test('the first request of a fresh connection: 10 MB with content-length, and 10 MB without one', async () => {
        for (const contentLength of [true, false]) {
            const session = http2.connect(`http://127.0.0.1:${srv.port}`, { maxSessionMemory: 1024 });
            session.on('error', () => {});
            try {
                const r = await h2post(session, BIG, { contentLength });
                assertRefused(r, contentLength ? 'content-length' : 'no content-length');
                assert.ok(r.ms < 5000, `the upload stopped after ${r.ms} ms`);
                const ok = await new Promise((resolve, reject) => {
                    const s = session.request({ ':path': '/healthz' });
                    s.on('response', (h) => resolve(h[':status']));
                    s.on('error', reject);
                    s.resume();
                    s.end();
                });
                assert.equal(ok, 200, 'the connection lives on');
            } finally {
                session.close();
            }
        }
    });

    test('a body at the limit reaches the route; one byte more is refused', async () => {
        const session = await h2session(srv.port);
        try {
            for (const contentLength of [true, false]) {
                const at = await h2post(session, Buffer.alloc(LIMIT, 0x20), { contentLength });
                assert.ok(at.status !== 413 || !at.body.includes(`at most ${LIMIT} bytes`), JSON.stringify(at).slice(0, 300));
                assert.ok(at.status < 500, JSON.stringify(at).slice(0, 300));
                assertRefused(await h2post(session, Buffer.alloc(LIMIT + 1, 0x20), { contentLength }), `limit + 1, ${contentLength}`);
            }
        } finally {
            session.close();
        }
    });

    test('raw frames: 413 at once (first flight or later), the rest of the body read and dropped, never RST_STREAM', async () => {
        const c = new RawH2(srv.port);
        await c.ready;
        const post = (id, extra) =>
            frame(FRAME.HEADERS, FLAG.END_HEADERS, id,
                headerBlock([[':method', 'POST'], [':scheme', 'http'], [':authority', 'localhost'], [':path', '/v1/feedback'], ...extra]));
        const data = (id, n, flags = 0) => frame(FRAME.DATA, flags, id, Buffer.alloc(n, 0x61));
        try {
            // the first flight (read before the server's SETTINGS went out): a content-length over the limit and 48 KiB
            c.write(Buffer.concat([post(1, [['content-length', '10000000']]), data(1, 16384), data(1, 16384), data(1, 16384)]));
            // stream 3 without content-length: 64 KiB (within the limit) now, the byte over it below
            c.write(Buffer.concat([post(3, []), data(3, 16384), data(3, 16384), data(3, 16384), data(3, 16384)]));
            for (const t0 = Date.now(); !c.streams.get(1)?.ended && Date.now() - t0 < 5000; await sleep(20));
            c.write(data(3, 1, FLAG.END_STREAM));
            for (const t0 = Date.now(); !c.streams.get(3)?.ended && Date.now() - t0 < 5000; await sleep(20));
            // the rest of stream 1's body (it was still uploading when the refusal came) is read and dropped
            c.write(Buffer.concat([data(1, 16384), data(1, 16384), data(1, 10, FLAG.END_STREAM)]));
            c.write(getHeaders(5, '/healthz'));
            for (const t0 = Date.now(); !c.streams.get(5)?.ended && Date.now() - t0 < 5000; await sleep(20));
            await sleep(200);
            for (const id of [1, 3]) {
                const s = c.streams.get(id);
                assert.ok(s, `stream ${id} answered`);
                assert.match(s.text, /"type":"\/docs\/problems#payload-too-large"/, `stream ${id}: ${s.text}`);
                assert.match(s.text, /"status":413/);
                assert.equal(s.ended, true, `stream ${id}: the 413 is complete`);
            }
            // the answer, and nothing else on these streams: the rest of their bodies is read and dropped (the client
            // may finish its upload), never reset
            for (const id of [1, 3])
                assert.deepEqual(c.log.filter((f) => f.id === id).map((f) => f.type), [FRAME.HEADERS, FRAME.DATA], `stream ${id}`);
            assert.equal(c.streams.get(5).status, 200, 'the connection lives on');
            assert.equal(c.log.filter((f) => f.type === FRAME.RST_STREAM).length, 0, JSON.stringify(c.log));
            assert.equal(c.goaways.length, 0);
        } finally {
            c.close();
        }
    });

    test('16 uploads of 10 MB at once on one connection: all 413, the server does not buffer them', async () => {
        const before = memory();
        const refusedBefore = await metric(srv.port, 'klimaspejl_http2_bodies_refused_total');
        // maxSessionMemory: Node's client resets its own streams (ENHANCE_YOUR_CALM) when more than 10 MB of its writes
        // wait at once, whatever the server does
        const session = http2.connect(`http://127.0.0.1:${srv.port}`, { maxSessionMemory: 1024 });
        session.on('error', () => {});
        const t0 = Date.now();
        try {
            const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => h2post(session, BIG, { contentLength: i % 2 === 0 })));
            rs.forEach((r, i) => assertRefused(r, `upload ${i}`));
        } finally {
            session.close();
        }
        const ms = Date.now() - t0;
        const afterMem = memory();
        const grew = afterMem.hwm - before.hwm;
        console.log(`# h2 bodies: 16 x 10 MB refused with 413 in ${ms} ms; server VmHWM ${before.hwm} -> ${afterMem.hwm} KiB (+${grew}), VmRSS ${afterMem.rss} KiB`);
        assert.ok(grew < 32 * 1024, `the server's peak memory grew by ${grew} KiB (160 MB were sent)`);
        assert.equal(await metric(srv.port, 'klimaspejl_http2_bodies_refused_total'), refusedBefore + 16);
    });
});

describe('limits: slow clients and idle connections', () => {
    let srv;

    before(async () => {
        srv = await startServer({ env: { KLIMA_REQUEST_TIMEOUT_MS: '1000', KLIMA_IDLE_TIMEOUT_MS: '1000', KLIMA_ACCESS_LOG: '0' } });
    });

    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    test('slowloris: a client trickling header lines is disconnected at the request deadline', async () => {
        const sock = await connect(srv.port);
        const t0 = Date.now();
        sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
        let n = 0;
        const timer = setInterval(() => sock.writable && sock.write(`X-Slow-${n++}: a\r\n`), 150);
        const closedAt = await Promise.race([sock.closedAt, sleep(8000).then(() => null)]);
        clearInterval(timer);
        sock.destroy();
        assert.ok(closedAt !== null, 'still open after 8 s');
        const ms = closedAt - t0;
        assert.ok(ms >= 900 && ms < 5000, `closed after ${ms} ms (deadline 1000 ms)`);
        assert.ok(n >= 5, `the client kept sending (${n} lines)`);
        assert.equal(sock.received().length, 0, 'no response to an incomplete request');
    });

    test('HTTP/1.1 keep-alive: an idle connection is closed after the request deadline', async () => {
        const sock = await connect(srv.port);
        const answered = new Promise((resolve) => sock.once('data', () => resolve(Date.now())));
        sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        const t0 = await answered;
        const closedAt = await Promise.race([sock.closedAt, sleep(8000).then(() => null)]);
        sock.destroy();
        assert.ok(closedAt !== null, 'still open after 8 s');
        assert.match(sock.received().toString('latin1'), /^HTTP\/1\.1 200 /);
        assert.match(sock.received().toString('latin1'), /\r\nconnection: keep-alive\r\n/i);
        assert.ok(closedAt - t0 >= 800 && closedAt - t0 < 5000, `closed ${closedAt - t0} ms after the response (deadline 1000 ms)`);
    });

    test('HTTP/2: a connection without requests is closed with GOAWAY after the idle timeout', async () => {
        const session = await h2session(srv.port);
        const t0 = Date.now();
        const goaway = new Promise((resolve) => session.once('goaway', (code) => resolve({ code, at: Date.now() })));
        const closed = new Promise((resolve) => session.once('close', () => resolve(Date.now())));
        const g = await Promise.race([goaway, sleep(8000).then(() => null)]);
        assert.ok(g !== null, 'no GOAWAY within 8 s');
        assert.equal(g.code, http2.constants.NGHTTP2_NO_ERROR);
        assert.ok(g.at - t0 >= 800 && g.at - t0 < 5000, `GOAWAY after ${g.at - t0} ms (idle timeout 1000 ms)`);
        await closed;
    });

    test('a normal client is unaffected and the server is healthy afterwards', async () => {
        const r = await request(srv.port, { path: '/readyz' });
        assert.equal(r.status, 200, r.body);
    });
});
