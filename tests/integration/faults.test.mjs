// faults.test.mjs — faults under load, with sanitizers on:
// 1. PostgreSQL (a throw-away cluster) stopped and started three times while h2load drives HTTP/2 load: every answer is
//    200 or 503 (never another 5xx, no stream or connection errors), the server recovers fully each time and does not
//    crash, and its RSS after the third recovery has not grown beyond a small bound since the first.
// 2. Clients vanishing mid-download (HTTP/1.1 socket destroyed, HTTP/2 RST_STREAM): the download's COPY disappears from
//    pg_stat_activity within 2 s and its download slot (KLIMA_DOWNLOADS) is free again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    assertCleanExit,
    conninfoWith,
    DB_ADMIN_URL,
    DB_URL,
    psql,
    request,
    runCli,
    sleep,
    startPgCluster,
    startServer,
    waitReady,
} from './harness.mjs';

// ASan keeps freed memory in a quarantine (256 MB by default), which would hide a leak's RSS growth behind its own;
// a small quarantine keeps RSS meaningful while still catching use-after-free.
const ASAN_SMALL = { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=4` };

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

// Runs h2load (HTTP/2 with prior knowledge) and resolves its parsed summary.
function h2load(args) {
    return new Promise((resolve, reject) => {
        const p = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('error', reject);
        p.on('exit', () => {
            const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
            const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
            if (!req || !codes) return reject(new Error(`unexpected h2load output:\n${out}`));
            const [total, started, done, succeeded, failed, errored, timeout] = req.slice(1).map(Number);
            const [s2, s3, s4, s5] = codes.slice(1).map(Number);
            resolve({ total, started, done, succeeded, failed, errored, timeout, s2, s3, s4, s5, out });
        });
    });
}

// Statuses of the access log lines the server wrote after `from` characters of output.
function accessStatuses(output, from = 0) {
    const counts = new Map();
    for (const line of output.slice(from).split('\n')) {
        if (!line.startsWith('{"ts"')) continue;
        const m = /"status":(\d+)/.exec(line);
        if (m) counts.set(Number(m[1]), (counts.get(Number(m[1])) || 0) + 1);
    }
    return counts;
}

describe('PostgreSQL restarted under h2load load', () => {
    let cluster, srv, uriFile;

    before(async () => {
        cluster = await startPgCluster();
        psql(cluster.conninfo(), 'CREATE DATABASE klimaspejl');
        const admin = cluster.conninfo('klimaspejl');
        const m = runCli(['migrate'], { env: { KLIMA_DB_ADMIN_URL: admin, KLIMA_DB_URL: admin }, timeout: 300_000 });
        assert.equal(m.status, 0, m.stderr);
        srv = await startServer({
            dbUrl: `host=${cluster.dir} port=${cluster.port} dbname=klimaspejl user=klima_api`,
            env: { ...ASAN_SMALL, KLIMA_LOG_LEVEL: 'warn', KLIMA_RATE_LIMIT: '0' }, // load from one address, not a flood
        });
        await waitReady(srv.port);
        // a mix of routes that each ask PostgreSQL: the ping, a records query (distinct limits miss the cache), stats
        const base = `http://127.0.0.1:${srv.port}`;
        const uris = [];
        for (let i = 1; i <= 50; ++i) {
            uris.push(`${base}/readyz`, `${base}/v1/datasets/emission-factors/records?limit=${i}`, `${base}/v1/feedback/stats`);
        }
        uriFile = path.join(cluster.dir, 'uris.txt');
        fs.writeFileSync(uriFile, `${uris.join('\n')}\n`);
    });
    after(async () => {
        if (srv && srv.exited() === null) await srv.stop();
        cluster?.destroy();
    });

    test('3 restart cycles: only 200 or 503, no errors, full recovery, flat RSS, clean exit', async () => {
        const rss = [];
        for (let cycle = 1; cycle <= 3; ++cycle) {
            const mark = srv.output().length;
            const load = h2load(['-c', '8', '-m', '8', '-D', '6', '-i', uriFile]);
            await sleep(1500);
            cluster.stop(); // blocks this process only; h2load keeps the server busy meanwhile
            await sleep(1500);
            cluster.start();
            const r = await load;
            assert.equal(srv.exited(), null, `the server is alive after cycle ${cycle}`);
            assert.equal(r.errored, 0, `cycle ${cycle}: no stream or connection errors\n${r.out}`);
            assert.equal(r.timeout, 0, `cycle ${cycle}: no timeouts\n${r.out}`);
            // a timed run stops with up to c x m requests in flight; all others were answered
            assert.ok(r.started - r.done <= 64, `cycle ${cycle}: every request was answered\n${r.out}`);
            assert.equal(r.s3 + r.s4, 0, `cycle ${cycle}: no 3xx/4xx\n${r.out}`);
            assert.ok(r.s2 > 0 && r.s5 > 0, `cycle ${cycle}: both 200s and 503s (${r.s2} 2xx, ${r.s5} 5xx)`);
            await sleep(300); // the access log of the last answers
            const statuses = accessStatuses(srv.output(), mark);
            // status 0: a stream h2load abandoned when its timed run ended (at most c x m), never answered by the server
            const others = [...statuses.keys()].filter((s) => s !== 200 && s !== 503 && s !== 0);
            assert.deepEqual(others, [], `cycle ${cycle}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
            assert.ok((statuses.get(0) || 0) <= 64, `cycle ${cycle}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);

            // full recovery: a burst after the restart is all 2xx
            await waitReady(srv.port, 10_000);
            const clean = await h2load(['-c', '4', '-m', '8', '-n', '3000', '-i', uriFile]);
            assert.equal(clean.s2, 3000, `cycle ${cycle}: all 2xx after recovery\n${clean.out}`);
            rss.push(rssKiB(srv.proc.pid));
            process.stderr.write(
                `# cycle ${cycle}: ${r.s2} 2xx + ${r.s5} 503 under load (${r.done} done), RSS after recovery ${rss.at(-1)} KiB\n`,
            );
        }
        // the first cycle warms caches, pools and h2o's buffer free lists; the next two must not add more than 8 MiB
        assert.ok(rss[2] - rss[0] <= 8 * 1024, `RSS grew ${rss[2] - rss[0]} KiB from cycle 1 to cycle 3 (${rss.join(', ')} KiB)`);
        assertCleanExit(assert, await srv.stop());
    });
});

describe('a client vanishing mid-download', () => {
    const app = `klima_faults_${process.pid}`;
    const DOWNLOAD = '/v1/datasets/energy-district-hourly/download';
    let srv;

    // COPY statements of this server (its connections carry their own application_name) on the test database; parallel
    // workers of a COPY's query show the same text, so only client backends count.
    const copies = () =>
        Number(
            psql(
                DB_ADMIN_URL,
                `SELECT count(*) FROM pg_stat_activity WHERE application_name = '${app}' AND backend_type = 'client backend' ` +
                    "AND query ILIKE 'COPY%'",
            ),
        );

    async function until(pred, withinMs, what) {
        const t0 = Date.now();
        while (!pred()) {
            assert.ok(Date.now() - t0 <= withinMs, `${what} within ${withinMs} ms`);
            await sleep(50);
        }
        return Date.now() - t0;
    }

    // HTTP/1.1: reads the first few KB of a download, then stops reading (the COPY blocks on backpressure).
    function h1Download() {
        return new Promise((resolve, reject) => {
            const sock = net.connect(srv.port, '127.0.0.1');
            let got = 0;
            sock.on('connect', () => sock.write(`GET ${DOWNLOAD} HTTP/1.1\r\nHost: x\r\n\r\n`));
            sock.on('data', (c) => {
                got += c.length;
                if (got >= 4096) {
                    sock.pause();
                    resolve({ head: c.subarray(0, 16).toString('latin1'), vanish: () => sock.destroy() });
                }
            });
            sock.on('error', reject);
        });
    }

    // HTTP/2: the same on a stream; vanishing resets the stream (RST_STREAM CANCEL) and keeps the session.
    function h2Download(session) {
        return new Promise((resolve, reject) => {
            const stream = session.request({ ':path': DOWNLOAD });
            let status;
            stream.on('response', (h) => (status = h[':status']));
            stream.once('data', () => {
                stream.pause();
                resolve({ status, vanish: () => stream.close(http2.constants.NGHTTP2_CANCEL) });
            });
            stream.on('error', reject);
        });
    }

    before(async () => {
        srv = await startServer({
            dbUrl: conninfoWith(DB_URL, { application_name: app }),
            threads: '1',
            // one client holds at most half the slots: 4 slots give this test's client 2; no queue, so a third is refused
            env: { KLIMA_DOWNLOADS: '4', KLIMA_DOWNLOAD_QUEUE: '0', KLIMA_RATE_LIMIT: '0' },
        });
    });
    after(async () => {
        if (srv && srv.exited() === null) await srv.stop();
    });

    test('HTTP/1.1 socket destroyed and HTTP/2 RST_STREAM: COPY gone within 2 s, slots free again', async () => {
        const session = http2.connect(`http://127.0.0.1:${srv.port}`);
        try {
            for (let round = 1; round <= 2; ++round) {
                // both of this client's slots busy with stalled downloads; a third download is refused with 503 + Retry-After
                const a = await h1Download();
                assert.equal(a.head.slice(0, 12), 'HTTP/1.1 200');
                const b = await h2Download(session);
                assert.equal(b.status, 200);
                await until(() => copies() === 2, 3000, 'both COPYs visible in pg_stat_activity');
                const busy = await request(srv.port, { path: DOWNLOAD });
                assert.equal(busy.status, 503, busy.body.slice(0, 200));
                assert.ok(busy.headers['retry-after']);

                a.vanish();
                const ms1 = await until(() => copies() === 1, 2000, 'the HTTP/1.1 download COPY cancelled');
                b.vanish();
                const ms2 = await until(() => copies() === 0, 2000, 'the HTTP/2 download COPY cancelled');
                process.stderr.write(`# round ${round}: COPY gone ${ms1} ms after the socket closed, ${ms2} ms after RST_STREAM\n`);
            }
            // KLIMA_DOWNLOADS + 1 further vanishing downloads, one at a time, then a complete one
            for (let i = 0; i < 3; ++i) {
                const d = i % 2 ? await h2Download(session) : await h1Download();
                d.vanish();
                await until(() => copies() === 0, 2000, `vanished download ${i + 1} cancelled`);
            }
            const h = await new Promise((resolve, reject) => {
                const s = session.request({ ':path': '/healthz' });
                s.on('response', (hd) => resolve(hd[':status']));
                s.on('error', reject);
                s.resume();
            });
            assert.equal(h, 200, 'the HTTP/2 session survived its reset streams');
        } finally {
            session.close();
        }
        const full = await request(srv.port, { path: DOWNLOAD });
        assert.equal(full.status, 200, full.body.slice(0, 200));
        const lines = full.body.split('\n').filter(Boolean).length;
        const rows = Number(psql(DB_ADMIN_URL, 'SELECT count(*) FROM api.energy_district_hourly'));
        assert.equal(lines, rows + 1, 'a complete download after the vanished ones: header + every row');
        assert.equal(copies(), 0);
    });

    test('SIGTERM: exit 0, no sanitizer report', async () => {
        assertCleanExit(assert, await srv.stop());
    });
});
