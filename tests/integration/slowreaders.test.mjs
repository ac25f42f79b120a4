// slowreaders.test.mjs — downloads against clients that never read, with the default limits (2 workers x KLIMA_DOWNLOADS
// 4 slots, KLIMA_DOWNLOAD_QUEUE 16, KLIMA_DOWNLOAD_QUEUE_MS 10 s, KLIMA_DOWNLOAD_STALL_MS 15 s, KLIMA_RATE_DOWNLOAD
// 30/60). The attacker, from 127.0.0.66: 16 HTTP/1.1 clients that send a download request and never read, and 24
// HTTP/2 streams on 6 raw connections that advertise a zero flow-control window (SETTINGS_INITIAL_WINDOW_SIZE 0) and
// never open it. Then 10 legitimate downloads from 10 other addresses, started in the same second, must all get 200 and
// complete (one client holds at most half the slots, the rest wait in the queue), and every download the attacker holds
// must lose its slot once it made no progress for 15 s: the HTTP/2 streams are reset, the HTTP/1.1 responses cut off.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { getHeaders, RawH2 } from './h2raw.mjs';
import { assertCleanExit, request, sleep, startServer } from './harness.mjs';

const ATTACKER = '127.0.0.66';
const BIG = '/v1/datasets/energy-district-hourly/download?format=csv';

async function metric(port, name) {
    const r = await request(port, { path: '/metrics' });
    let sum = 0;
    for (const line of r.body.split('\n')) {
        const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
        if (m) sum += Number(m[2]);
    }
    return sum;
}

// An HTTP/1.1 client that sends one download request and never reads: its socket stays paused, so the kernel's buffers
// fill and the server's writes stop. Records the bytes it could read afterwards (read()) and whether the server closed.
function neverReader(port) {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: ATTACKER });
    const state = { sock, closed: false, data: [] };
    sock.on('error', () => {});
    sock.on('close', () => (state.closed = true));
    sock.on('connect', () => {
        sock.write(`GET ${BIG} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        sock.pause();
    });
    return state;
}

// A legitimate download: the whole body, read as it comes. Resolves { status, bytes, complete }.
function download(port, localAddress, path) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path, localAddress, agent: false, timeout: 60_000 }, (res) => {
            let bytes = 0;
            res.on('data', (c) => (bytes += c.length));
            res.on('end', () => resolve({ status: res.statusCode, bytes, complete: res.complete, ms: Date.now() - t0 }));
            res.on('aborted', () => resolve({ status: res.statusCode, bytes, complete: false }));
            res.on('error', () => resolve({ status: res.statusCode, bytes, complete: false }));
        });
        const t0 = Date.now();
        req.on('timeout', () => req.destroy(new Error(`${path} from ${localAddress}: no answer within 60 s`)));
        req.on('error', reject);
    });
}

describe('slow readers and the download slots', () => {
    let srv;
    before(async () => {
        srv = await startServer({ env: { KLIMA_LOG_LEVEL: 'info' } });
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    test('16 never-reading TCP clients and 24 zero-window HTTP/2 streams: 10 of 10 legitimate downloads get 200 and complete; the stalled ones lose their slots', async () => {
        const port = srv.port;
        const t0 = Date.now();
        const h1 = Array.from({ length: 16 }, () => neverReader(port));
        const h2 = Array.from({ length: 6 }, () => new RawH2(port, { localAddress: ATTACKER, initialWindow: 0 }));
        await Promise.all(h2.map((c) => c.ready));
        for (const c of h2) for (const id of [1, 3, 5, 7]) c.write(getHeaders(id, BIG));
        await sleep(1500);
        const activeUnderAttack = await metric(port, 'klimaspejl_downloads_active');

        // the legitimate downloads: ten clients, started together
        const legit = await Promise.all(
            Array.from({ length: 10 }, (_, i) => download(port, `127.0.0.${10 + i}`, '/v1/datasets/energy-district-daily/download?format=csv')),
        );
        const legitNote = JSON.stringify(legit);
        assert.deepEqual(legit.map((r) => r.status), Array(10).fill(200), legitNote);
        assert.ok(legit.every((r) => r.complete && r.bytes > 1000), `every legitimate download completes: ${legitNote}`);
        assert.ok(Date.now() - t0 < 15_000, `the legitimate downloads finished before any stall freed a slot (${Date.now() - t0} ms)`);

        // the attacker's downloads stall: 15 s without progress, then the slot goes (HTTP/2: RST_STREAM; HTTP/1.1: cut)
        const deadline = t0 + 40_000;
        let active = -1;
        while (Date.now() < deadline) {
            await sleep(1000);
            active = await metric(port, 'klimaspejl_downloads_active');
            const queued = await metric(port, 'klimaspejl_downloads_queued');
            if (active === 0 && queued === 0) break;
        }
        const stalled = await metric(port, 'klimaspejl_downloads_stalled_total');
        const streams = h2.flatMap((c) => [...c.streams.values()]);
        const started = streams.filter((s) => s.status === 200);
        assert.ok(activeUnderAttack >= 1 && activeUnderAttack <= 8, `downloads active under attack: ${activeUnderAttack}`);
        assert.equal(active, 0, 'every slot is free again while the attacker still holds its connections');
        assert.ok(stalled >= 2, `klimaspejl_downloads_stalled_total ${stalled}`);
        assert.ok(started.every((s) => s.reset === 8 && !s.ended), `every HTTP/2 download that started was reset (CANCEL): ${JSON.stringify(streams)}`);
        // one address holds at most half the slots: 2 per worker
        assert.ok(started.length + 0 <= 4 * 2, `${started.length} zero-window downloads started`);

        // the HTTP/1.1 never-readers that got a slot: read now; the server ended the connection without the last chunk
        for (const c of h1) {
            c.sock.on('data', (d) => c.data.push(d));
            c.sock.resume();
        }
        await sleep(2000);
        const cut = h1.filter((c) => {
            const all = Buffer.concat(c.data).toString('latin1');
            return all.startsWith('HTTP/1.1 200') && c.closed && !all.endsWith('\r\n0\r\n\r\n');
        });
        const ok200 = h1.filter((c) => Buffer.concat(c.data).toString('latin1').startsWith('HTTP/1.1 200'));
        assert.equal(cut.length, ok200.length, `every HTTP/1.1 download that started and stalled was cut off (${cut.length} of ${ok200.length})`);
        console.log(
            `# slow readers: active under attack ${activeUnderAttack}, stalled ${stalled}, h2 started ${started.length}, h1 started ${ok200.length}; legitimate ms ${legit.map((r) => r.ms).join(',')}`,
        );
        for (const c of h1) c.sock.destroy();
        for (const c of h2) c.close();
    });
});
