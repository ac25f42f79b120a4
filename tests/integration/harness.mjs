// harness.mjs — starts and stops real klimaspejl servers and PostgreSQL clusters for the integration suites, and
// speaks HTTP/1.1, h2c and raw bytes to them. Node built-ins only.
//
// Environment (set by tests/run; the defaults fit a local `server/run` set-up):
//   KLIMA_BIN                 the server binary (default build-asan/klimaspejl)
//   KLIMA_TEST_DB_URL         conninfo of the seeded test database for the server role (klima_api)
//   KLIMA_TEST_DB_ADMIN_URL   conninfo of the same database for the postgres superuser
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.KLIMA_BIN || path.join(ROOT, 'build-asan/klimaspejl');
export const PG_BIN = '/usr/lib/postgresql/15/bin';

const LOCAL_SOCK = path.join(ROOT, '.data/run');
export const DB_URL =
    process.env.KLIMA_TEST_DB_URL || `host=${LOCAL_SOCK} port=54329 dbname=klimaspejl user=klima_api`;
export const DB_ADMIN_URL =
    process.env.KLIMA_TEST_DB_ADMIN_URL || `host=${LOCAL_SOCK} port=54329 dbname=klimaspejl user=postgres`;

// Every server and CLI the suites start shares one issuer, so a token minted by `klimaspejl token` verifies on any test
// server whatever port it listens on (without it the issuer follows each server's listen address). tests/run exports
// the same value; a test of the listen-derived default passes KLIMA_ISSUER: '' (empty = unset).
process.env.KLIMA_ISSUER ??= 'http://klimaspejl.test';

// Reports from AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer.
export const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

// A deterministic PRNG (mulberry32) in [0, 1), so a failure of a fuzzing test can be replayed from its seed.
export function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A TCP port that was free a moment ago on 127.0.0.1.
export async function freePort() {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address();
    srv.close();
    await once(srv, 'close');
    return port;
}

// Replaces (or adds) key=value pairs in a libpq conninfo string.
export function conninfoWith(conninfo, changes) {
    const parts = conninfo.trim().split(/\s+/).filter(Boolean);
    const out = parts.filter((p) => !Object.hasOwn(changes, p.split('=')[0]));
    for (const [k, v] of Object.entries(changes)) out.push(`${k}=${v}`);
    return out.join(' ');
}

// Runs psql with one SQL string; returns trimmed stdout (unaligned, tuples only). Throws with psql's stderr on failure.
export function psql(conninfo, sql) {
    const r = spawnSync(path.join(PG_BIN, 'psql'), ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql], {
        encoding: 'utf8',
        timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`psql failed (${r.status}): ${r.stderr || r.error}`);
    return r.stdout.trim();
}

// Creates a fresh database next to the test database and returns its admin and api conninfos; drop() removes it.
// Its name starts with the test database's name, so tests/run drops it even if a test dies halfway.
let dbCounter = 0;
export function createDatabase(suffix) {
    const base = conninfoWith(DB_ADMIN_URL, {}).match(/dbname=(\S+)/)?.[1] || 'klimaspejl';
    const name = `${process.env.KLIMA_TEST_DB_NAME || `${base}_t${process.pid}`}_${suffix}${++dbCounter}`.slice(0, 63);
    const maint = conninfoWith(DB_ADMIN_URL, { dbname: 'postgres' });
    psql(maint, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    psql(maint, `CREATE DATABASE "${name}"`);
    return {
        name,
        adminUrl: conninfoWith(DB_ADMIN_URL, { dbname: name }),
        apiUrl: conninfoWith(DB_URL, { dbname: name }),
        drop() {
            psql(maint, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        },
    };
}

// Runs a klimaspejl subcommand to completion. Returns { status, signal, stdout, stderr }.
export function runCli(args, { env = {}, timeout = 60_000 } = {}) {
    const r = spawnSync(BIN, args, {
        encoding: 'utf8',
        timeout,
        env: { ...process.env, KLIMA_LOG_LEVEL: 'warn', ...env },
    });
    if (r.error && r.error.code === 'ETIMEDOUT') {
        throw new Error(`klimaspejl ${args.join(' ')} did not finish within ${timeout} ms\nstderr: ${r.stderr}`);
    }
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP clients

// One HTTP/1.1 request on its own connection. Resolves { status, headers, body (string) }.
export function request(port, { method = 'GET', path: p = '/', headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false, timeout: 10_000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within 10 s`)));
        req.on('error', reject);
        req.end(body);
    });
}

// One request over HTTP/2 with prior knowledge (h2c). Resolves { status, headers, body, httpVersion: '2' }.
export async function h2request(port, { method = 'GET', path: p = '/', headers = {} } = {}) {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
        return await new Promise((resolve, reject) => {
            session.on('error', reject);
            const stream = session.request({ ':method': method, ':path': p, ...headers });
            stream.setTimeout(10_000, () => stream.close(http2.constants.NGHTTP2_CANCEL) || reject(new Error('h2 timeout')));
            let resHeaders;
            const chunks = [];
            stream.on('response', (h) => (resHeaders = h));
            stream.on('data', (c) => chunks.push(c));
            stream.on('end', () =>
                resolve({ status: resHeaders?.[':status'], headers: resHeaders, body: Buffer.concat(chunks).toString('utf8') }),
            );
            stream.on('error', reject);
            stream.end();
        });
    } finally {
        session.close();
    }
}

// Writes raw bytes on a fresh TCP connection and collects what comes back until the server closes the connection or
// `waitMs` passes. Resolves { data (Buffer), closed (bool), statusCode (number|null: of an HTTP/1.x status line) }.
export function rawExchange(port, bytes, { waitMs = 3000 } = {}) {
    return new Promise((resolve) => {
        const chunks = [];
        let done = false;
        const sock = net.connect(port, '127.0.0.1');
        const finish = (closed) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            sock.destroy();
            const data = Buffer.concat(chunks);
            const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 32).toString('latin1'));
            resolve({ data, closed, statusCode: m ? Number(m[1]) : null });
        };
        const timer = setTimeout(() => finish(false), waitMs);
        sock.on('connect', () => sock.write(bytes));
        sock.on('data', (c) => chunks.push(c));
        sock.on('end', () => finish(true));
        sock.on('close', () => finish(true));
        sock.on('error', () => finish(true));
    });
}

// ---------------------------------------------------------------------------------------------------------------
// The server under test

// Starts `klimaspejl serve` on a free port and waits until /healthz answers. Options: env (added to the
// environment), dbUrl (KLIMA_DB_URL), args (extra serve flags), port (when env.KLIMA_LISTEN names its own port, to
// reach the server on 127.0.0.1:port). Returns a handle:
//   { port, proc, output(): stdout+stderr so far, stop({signal, timeoutMs}): SIGTERM by default, resolves { code, signal, output } }.
export async function startServer({ env = {}, dbUrl = DB_URL, args = [], threads = '2', port: fixedPort } = {}) {
    const port = fixedPort ?? (await freePort());
    if (env.KLIMA_DEV_LOGIN === '1' || env.KLIMA_DEV_LOGIN === 'force') {
        // the dev login lists demo households only while the database grants it (meta.dev_login, as server/run does);
        // a server started against a missing or unmigrated database on purpose simply gets no grant
        const admin = conninfoWith(dbUrl, { user: DB_ADMIN_URL.match(/user=(\S+)/)?.[1] || 'postgres' });
        try {
            psql(admin, 'SELECT meta.dev_login(true)');
        } catch {
            // see above
        }
    }
    const proc = spawn(BIN, ['serve', ...args], {
        env: {
            ...process.env,
            KLIMA_LISTEN: `127.0.0.1:${port}`,
            KLIMA_DB_URL: dbUrl,
            KLIMA_THREADS: threads,
            KLIMA_LOG_LEVEL: 'warn',
            ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    const exited = once(proc, 'exit').then(([code, signal]) => ({ code, signal }));
    let exitInfo = null;
    exited.then((e) => (exitInfo = e));

    const handle = {
        port,
        proc,
        output: () => out,
        exited: () => exitInfo,
        async stop({ timeoutMs = 15_000, signal: sig = 'SIGTERM' } = {}) {
            if (exitInfo === null) proc.kill(sig);
            const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
            const { code, signal } = await exited;
            clearTimeout(timer);
            // Let the pipes drain so a sanitizer report written at exit is not lost.
            await sleep(50);
            return { code, signal, output: out };
        },
    };

    const deadline = Date.now() + 30_000;
    for (;;) {
        if (exitInfo !== null) {
            throw new Error(`klimaspejl serve exited early (${JSON.stringify(exitInfo)}):\n${out}`);
        }
        try {
            const r = await request(port, { path: '/healthz' });
            if (r.status === 200) break;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline) {
            proc.kill('SIGKILL');
            throw new Error(`klimaspejl serve did not answer /healthz within 30 s:\n${out}`);
        }
        await sleep(100);
    }
    // Readiness (catalog loaded, database answering) follows liveness within moments when the database is up; a server
    // started against a missing database simply stays unready, which the tests that want that check themselves.
    await waitReady(port, 5_000);
    return handle;
}

// Waits until every worker answers /readyz with 200 (its dataset catalog is loaded and the database answers): several
// parallel requests so that each worker thread is likely to be asked. Gives up silently after timeoutMs.
export async function waitReady(port, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const ready = await Promise.all([1, 2, 3, 4].map(() => request(port, { path: '/readyz' }).catch(() => ({ status: 0 }))));
        if (ready.every((r) => r.status === 200)) return;
        await sleep(100);
    }
}

// Asserts a stopped server's result: exit code 0 by itself (no signal) and no sanitizer report in its output.
export function assertCleanExit(assert, result) {
    assert.equal(result.signal, null, `server was killed by ${result.signal}; output:\n${result.output.slice(-4000)}`);
    assert.equal(result.code, 0, `server exit code ${result.code}; output:\n${result.output.slice(-4000)}`);
    const m = SANITIZER_REPORT.exec(result.output);
    assert.equal(m, null, `sanitizer report in server output:\n${m ? result.output.slice(Math.max(0, m.index - 200), m.index + 4000) : ''}`);
}

// ---------------------------------------------------------------------------------------------------------------
// A throw-away PostgreSQL cluster (for outage tests): its own temp dir and port, run as `postgres` when we are root.

function asPg(cmd, args) {
    const [file, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
    return r.stdout;
}

export async function startPgCluster() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-outage-'));
    const data = path.join(dir, 'pg');
    fs.mkdirSync(data, { mode: 0o700 });
    if (IS_ROOT) {
        const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
        const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
        fs.chownSync(dir, Number(pw.stdout), Number(gid.stdout));
        fs.chownSync(data, Number(pw.stdout), Number(gid.stdout));
    }
    const port = await freePort();
    asPg(path.join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--encoding', 'UTF8', '--locale', 'C', '-N']);
    const opts = [
        `-c port=${port}`,
        `-c unix_socket_directories=${dir}`,
        "-c listen_addresses=''",
        '-c shared_buffers=32MB',
        '-c max_connections=50',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
    ].join(' ');
    const cluster = {
        dir,
        data,
        port,
        conninfo: (db = 'postgres') => `host=${dir} port=${port} dbname=${db} user=postgres`,
        start() {
            asPg(path.join(PG_BIN, 'pg_ctl'), ['start', '-D', data, '-l', path.join(data, 'server.log'), '-w', '-t', '60', '-s', '-o', opts]);
        },
        stop() {
            asPg(path.join(PG_BIN, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-s']);
        },
        destroy() {
            try {
                cluster.stop();
            } catch {
                // already stopped
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    cluster.start();
    return cluster;
}

// A streaming replica of a throw-away cluster (startPgCluster): `pg_basebackup -R` over the primary's socket (initdb's
// trust rules allow local replication), started on a port of its own. Same handle as startPgCluster; wal_level=replica
// and max_wal_senders are PostgreSQL 15's defaults, so the primary needs no change.
export async function startPgReplica(primary) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-replica-'));
    const data = path.join(dir, 'pg');
    if (IS_ROOT) {
        const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
        const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
        fs.chownSync(dir, Number(pw.stdout), Number(gid.stdout));
    }
    const port = await freePort();
    asPg(path.join(PG_BIN, 'pg_basebackup'), ['-D', data, '-R', '-X', 'stream', '-c', 'fast', '-d', primary.conninfo('postgres')]);
    const opts = [
        `-c port=${port}`,
        `-c unix_socket_directories=${dir}`,
        "-c listen_addresses=''",
        '-c shared_buffers=32MB',
        '-c max_connections=50',
        '-c fsync=off',
        '-c hot_standby=on',
        '-c hot_standby_feedback=on',
    ].join(' ');
    const replica = {
        dir,
        data,
        port,
        conninfo: (db = 'postgres') => `host=${dir} port=${port} dbname=${db} user=postgres`,
        start() {
            asPg(path.join(PG_BIN, 'pg_ctl'), ['start', '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-s', '-o', opts]);
        },
        stop() {
            asPg(path.join(PG_BIN, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-s']);
        },
        destroy() {
            try {
                replica.stop();
            } catch {
                // already stopped
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    replica.start();
    return replica;
}
