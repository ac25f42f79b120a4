// http.test.mjs — the HTTP core against a real server and the seeded test database: health, errors, HEAD, hostile
// input, clients that vanish mid-query, graceful shutdown. HTTP/1.1 and h2c.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, h2request, rawExchange, request, sleep, startServer } from './harness.mjs';

// Asserts an RFC 9457 problem document whose status equals the HTTP status.
function assertProblem(res, status) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json\b/);
    const p = JSON.parse(res.body);
    assert.equal(p.status, status, 'problem "status" equals the HTTP status');
    for (const k of ['type', 'title', 'detail']) {
        assert.equal(typeof p[k], 'string', `problem has a string "${k}": ${res.body}`);
        assert.ok(p[k].length > 0, `problem "${k}" is not empty`);
    }
    return p;
}

describe('HTTP core', () => {
    let srv;
    let port;
    before(async () => {
        srv = await startServer();
        port = srv.port;
    });
    after(async () => {
        if (srv && srv.exited() === null) await srv.stop();
    });

    test('GET /healthz over HTTP/1.1: 200 JSON', async () => {
        const r = await request(port, { path: '/healthz' });
        assert.equal(r.status, 200);
        assert.match(String(r.headers['content-type']), /^application\/json\b/);
        assert.equal(JSON.parse(r.body).status, 'ok');
    });

    test('GET /healthz over h2c (prior knowledge): 200 JSON', async () => {
        const r = await h2request(port, { path: '/healthz' });
        assert.equal(r.status, 200);
        assert.match(String(r.headers['content-type']), /^application\/json\b/);
        assert.equal(JSON.parse(r.body).status, 'ok');
    });

    test('GET /readyz: 200 when the database is up (HTTP/1.1 and h2c)', async () => {
        const r = await request(port, { path: '/readyz' });
        assert.equal(r.status, 200, r.body);
        assert.equal(JSON.parse(r.body).status, 'ready');
        const r2 = await h2request(port, { path: '/readyz' });
        assert.equal(r2.status, 200, r2.body);
    });

    test('unknown path: 404 problem+json (HTTP/1.1 and h2c)', async () => {
        assertProblem(await request(port, { path: '/no/such/path' }), 404);
        assertProblem(await h2request(port, { path: '/no/such/path' }), 404);
    });

    test('wrong method on a known path: 405 problem+json with Allow', async () => {
        for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
            const r = await request(port, { method, path: '/healthz', body: method === 'GET' ? undefined : '' });
            assertProblem(r, 405);
            assert.ok(r.headers.allow, `${method} /healthz: Allow header present`);
            assert.match(r.headers.allow, /\bGET\b/);
        }
        const r2 = await h2request(port, { method: 'DELETE', path: '/readyz' });
        assertProblem(r2, 405);
        assert.match(String(r2.headers.allow), /\bGET\b/);
    });

    test('HEAD: headers of the GET, no body', async () => {
        const r = await request(port, { method: 'HEAD', path: '/healthz' });
        assert.equal(r.status, 200);
        assert.equal(r.body, '');
        assert.match(String(r.headers['content-type']), /^application\/json\b/);
        const r404 = await request(port, { method: 'HEAD', path: '/no/such/path' });
        assert.equal(r404.status, 404);
        assert.equal(r404.body, '');
        const h2 = await h2request(port, { method: 'HEAD', path: '/healthz' });
        assert.equal(h2.status, 200);
        assert.equal(h2.body, '');
    });

    // Each case is complete (ends its header block) so the server has everything it needs to decide.
    const hostile = [
        ['garbage request line', 'GARBAGE\r\n\r\n'],
        ['request line without version', 'GET /healthz\r\n\r\n'],
        ['unsupported HTTP version', 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n'],
        ['unknown method', 'FROBNICATE /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
        ['control bytes in the path', 'GET /heal\x00\x01thz HTTP/1.1\r\nHost: x\r\n\r\n'],
        ['header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n'],
        ['bad Content-Length', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
        ['bad chunked body', 'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n'],
        ['100 KB header', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`],
        ['100 KB request target', `GET /${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`],
        ['500 headers', `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 500 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`],
        ['binary garbage', Buffer.concat([Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)), Buffer.from('\r\n\r\n')])],
        ['HTTP/2 preface then garbage', Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.alloc(64, 0xff)])],
        [
            'HTTP/2 preface then a malformed SETTINGS frame',
            Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 5, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5])]),
        ],
    ];
    for (const [name, bytes] of hostile) {
        test(`hostile input: ${name} -> 4xx or closed, server keeps serving`, async () => {
            const r = await rawExchange(port, bytes);
            if (r.statusCode !== null) {
                assert.ok(r.statusCode >= 400 && r.statusCode < 500, `expected a 4xx, got ${r.statusCode}`);
            } else {
                assert.ok(r.closed, `the server neither answered with a 4xx nor closed the connection (got ${r.data.length} bytes)`);
            }
            const h = await request(port, { path: '/healthz' });
            assert.equal(h.status, 200);
        });
    }

    test('1,000 HTTP/1.1 clients vanish right after sending GET /readyz; server keeps serving', async () => {
        const req = Buffer.from('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
        const one = (i) =>
            new Promise((resolve) => {
                const sock = net.connect(port, '127.0.0.1');
                sock.on('error', () => {});
                sock.on('close', resolve);
                sock.on('connect', () => {
                    // Three flavours: FIN at once, FIN a little later, RST (abortive close).
                    const payload = i % 10 === 0 ? Buffer.concat([req, req, req]) : req;
                    sock.write(payload, () => {
                        if (i % 3 === 0) sock.destroy();
                        else if (i % 3 === 1) setTimeout(() => sock.destroy(), i % 5);
                        else sock.resetAndDestroy();
                    });
                });
            });
        for (let batch = 0; batch < 10; batch++) {
            await Promise.all(Array.from({ length: 100 }, (_, j) => one(batch * 100 + j)));
        }
        await sleep(200);
        const r = await request(port, { path: '/readyz' });
        assert.equal(r.status, 200, r.body);
    });

    test('1,000 HTTP/2 streams reset (RST_STREAM CANCEL) while GET /readyz is in flight; server keeps serving', async () => {
        const sessionRun = (s) =>
            new Promise((resolve) => {
                const session = http2.connect(`http://127.0.0.1:${port}`);
                session.on('error', () => {});
                let open = 100;
                const closed = () => {
                    if (--open === 0) {
                        // Every tenth session vanishes without a GOAWAY.
                        if (s % 10 === 9) session.destroy();
                        else session.close();
                        resolve();
                    }
                };
                for (let i = 0; i < 100; i++) {
                    const stream = session.request({ ':path': '/readyz' });
                    stream.on('error', () => {});
                    stream.on('close', closed);
                    stream.resume();
                    stream.end();
                    const cancel = () => stream.close(http2.constants.NGHTTP2_CANCEL);
                    if (i % 3 === 0) cancel();
                    else if (i % 3 === 1) setImmediate(cancel);
                    else setTimeout(cancel, i % 4);
                }
            });
        for (let s = 0; s < 10; s++) await sessionRun(s);
        await sleep(200);
        const r = await h2request(port, { path: '/readyz' });
        assert.equal(r.status, 200, r.body);
        const r1 = await request(port, { path: '/readyz' });
        assert.equal(r1.status, 200, r1.body);
    });

    test('SIGTERM: exit 0, no sanitizer report (everything above included)', async () => {
        const res = await srv.stop();
        assertCleanExit(assert, res);
    });
});

describe('graceful shutdown', () => {
    test('SIGTERM with an idle keep-alive connection and an open h2 session: exit 0 within 10 s', async () => {
        const srv = await startServer();
        try {
            // A keep-alive HTTP/1.1 connection left open after one answered request.
            const sock = net.connect(srv.port, '127.0.0.1');
            sock.on('error', () => {});
            await new Promise((resolve) => sock.on('connect', resolve));
            sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
            await new Promise((resolve) => sock.once('data', resolve));
            // An idle h2c session.
            const session = http2.connect(`http://127.0.0.1:${srv.port}`);
            session.on('error', () => {});
            await new Promise((resolve) => session.on('connect', resolve));
            const started = Date.now();
            const res = await srv.stop({ timeoutMs: 10_000 });
            assert.ok(Date.now() - started < 10_000, 'stopped within 10 s');
            assertCleanExit(assert, res);
            sock.destroy();
            session.destroy();
        } finally {
            if (srv.exited() === null) await srv.stop();
        }
    });

    test('SIGINT: exit 0', async () => {
        const srv = await startServer();
        const res = await srv.stop({ signal: 'SIGINT' });
        assertCleanExit(assert, res);
    });
});
