// replica.test.mjs — KLIMA_DB_READ_URLS against a real streaming replica (pg_basebackup -R on a throw-away cluster):
// open-data reads are answered by the replica, writes (POST /v1/feedback) land on the primary; a household's series is
// read on the replica while its consent is checked on the primary (with replay paused, a consent the replica has not
// seen works and a revoked one is refused within 1 s); after a refresh the replica has not replayed, reads stay on the
// primary; under load the replica is stopped (pg_ctl stop -m fast) -> no request fails beyond those in flight at that
// moment and reads move to the primary; the replica is started again -> it answers reads again within a few seconds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, PG_BIN, psql, runCli, sleep, startPgCluster, startPgReplica, startServer } from './harness.mjs';

const DATASET = 'grid-intensity-hourly';
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

// pg_ctl without blocking the event loop (the load keeps running while the replica stops and starts).
function pgCtlAsync(args) {
    const [file, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, 'pg_ctl'), ...args]] : [path.join(PG_BIN, 'pg_ctl'), args];
    return new Promise((resolve, reject) => {
        const p = spawn(file, argv, { stdio: 'ignore' });
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${args[0]} exited ${code}`))));
    });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function get(port, p, headers = {}, method = 'GET') {
    return new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent, timeout: 10_000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', (err) => resolve({ status: 0, body: String(err) }));
        });
        req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
        req.on('error', (err) => resolve({ status: 0, body: String(err) }));
        req.end();
    });
}

// Sum of a metric's samples whose labels include `labels`.
async function metric(port, name, labels = {}) {
    const r = await get(port, '/metrics');
    let sum = 0;
    for (const line of r.body.split('\n')) {
        const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[2] || '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
    }
    return sum;
}

// The server's sessions on a cluster (application_name klimaspejl, role klima_api).
const sessions = (conninfo) =>
    Number(psql(conninfo, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'klimaspejl' AND usename = 'klima_api'"));

describe('read replica (KLIMA_DB_READ_URLS)', () => {
    let primary, replica, srv, keys, client, seq = 0;
    const env = (url) => ({ KLIMA_DB_ADMIN_URL: url, KLIMA_DB_URL: url });
    // a records query the response cache has not seen: it must reach PostgreSQL
    const freshPath = () => `/v1/datasets/${DATASET}/records?limit=${1 + (++seq % 9000)}`;

    before(async () => {
        primary = await startPgCluster();
        psql(primary.conninfo(), 'CREATE DATABASE klimaspejl');
        const admin = primary.conninfo('klimaspejl');
        for (const args of [['migrate'], ['seed', '--households', '50', '--days', '30'], ['refresh', DATASET, 'emission-factors']]) {
            const r = runCli(args, { env: env(admin), timeout: 300_000 });
            assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
        }
        replica = await startPgReplica(primary);
        // wait until the replica has replayed everything the primary wrote
        const target = psql(admin, 'SELECT pg_current_wal_lsn()');
        for (const t0 = Date.now(); ; await sleep(100)) {
            if (psql(replica.conninfo('klimaspejl'), `SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn`) === 't') break;
            assert.ok(Date.now() - t0 < 30_000, 'the replica caught up within 30 s');
        }
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        assert.equal(runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keys } }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Replica test', '--first-party', '--redirect-uri', 'http://127.0.0.1:9/cb'], {
            env: env(admin),
        });
        assert.equal(c.status, 0, c.stderr);
        client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        const apiUrl = (c) => `host=${c.dir} port=${c.port} dbname=klimaspejl user=klima_api`;
        srv = await startServer({
            dbUrl: apiUrl(primary),
            env: {
                KLIMA_DB_READ_URLS: ` ${apiUrl(replica)} , `,
                KLIMA_DB_CONNS: '2',
                KLIMA_RATE_LIMIT: '0',
                KLIMA_KEYS_DIR: keys,
                KLIMA_LOG_LEVEL: 'info',
            },
        });
    });
    after(async () => {
        agent.destroy();
        if (srv && srv.exited() === null) await srv.stop();
        replica?.destroy();
        primary?.destroy();
        if (keys) fs.rmSync(keys, { recursive: true, force: true });
    });

    test('reads are answered by the replica, writes land on the primary', async () => {
        // startServer waits for the primary; the replica connections come up on their own schedule
        for (const t0 = Date.now(); (await metric(srv.port, 'klimaspejl_db_replica_connections', { state: 'ready' })) < 4; await sleep(100)) {
            assert.ok(Date.now() - t0 < 10_000, 'replica connections ready within 10 s');
        }
        const primaryBefore = await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'primary' });
        for (let i = 0; i < 20; ++i) {
            const r = await get(srv.port, freshPath());
            assert.equal(r.status, 200, r.body);
        }
        // 2 threads x 2 connections on each cluster
        assert.equal(sessions(replica.conninfo('klimaspejl')), 4, 'the server holds its read connections on the replica');
        const onReplica = psql(
            replica.conninfo('klimaspejl'),
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'klimaspejl' AND query ILIKE '%grid_intensity%'",
        );
        assert.ok(Number(onReplica) >= 1, 'the records query ran on the replica');
        await sleep(1100); // metrics are published once a second per thread
        assert.ok((await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' })) >= 20);
        assert.equal(await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'primary' }), primaryBefore, 'no read went to the primary');
        assert.equal(await metric(srv.port, 'klimaspejl_db_replica_connections', { state: 'ready' }), 4);

        const marker = `replica-test-${process.pid}-${Date.now()}`;
        const w = await new Promise((resolve, reject) => {
            const req = http.request(
                { host: '127.0.0.1', port: srv.port, method: 'POST', path: '/v1/feedback', headers: { 'content-type': 'application/json' } },
                (res) => {
                    res.resume();
                    res.on('end', () => resolve(res.statusCode));
                },
            );
            req.on('error', reject);
            req.end(JSON.stringify({ topic: 'idea', rating: 4, message: marker }));
        });
        assert.equal(w, 201);
        assert.equal(psql(primary.conninfo('klimaspejl'), `SELECT count(*) FROM core.feedback WHERE message = '${marker}'`), '1');
    });

    test('personal reads on the replica; the consent check on the primary (a new consent works, a revoked one is refused)', async () => {
        const admin = primary.conninfo('klimaspejl');
        const rep = replica.conninfo('klimaspejl');
        const household = psql(admin, 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1');
        const day = (n) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
        const series = `/v1/me/energy?from=${day(10)}&to=${day(3)}&resolution=day`;
        for (const t0 = Date.now(); !srv.output().includes('listening for database notifications'); await sleep(50)) {
            assert.ok(Date.now() - t0 < 20_000, 'the notification listener connected');
        }
        // the replica does not see the consents minted from here on until replay resumes
        psql(rep, 'SELECT pg_wal_replay_pause()');
        try {
            const m = runCli(['token', '--household', household, '--scope', 'energy:read consents:manage', '--client', client], {
                env: { ...env(admin), KLIMA_KEYS_DIR: keys },
            });
            assert.equal(m.status, 0, m.stderr);
            const token = m.stdout.trim().split('\n').at(-1).trim();
            const cid = /consent (\S+)/.exec(m.stderr)[1];
            assert.equal(psql(rep, `SELECT count(*) FROM core.consents WHERE consent_id = '${cid}'`), '0', 'the replica lacks the consent');
            const auth = { authorization: `Bearer ${token}` };
            await sleep(1100);
            const replicaBefore = await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' });
            for (let i = 0; i < 6; ++i) {
                const r = await get(srv.port, series, auth);
                assert.equal(r.status, 200, r.body);
                assert.equal(JSON.parse(r.body).rows.length, 7, r.body);
            }
            await sleep(1100);
            assert.ok(
                (await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' })) >= replicaBefore + 1,
                'the series was read on the replica',
            );
            // revoked on the primary, still valid on the paused replica: refused within 1 s all the same
            assert.equal((await get(srv.port, `/v1/me/consents/${cid}`, auth, 'DELETE')).status, 204);
            const t0 = Date.now();
            for (;;) {
                const rs = await Promise.all(Array.from({ length: 4 }, () => get(srv.port, series, auth)));
                if (rs.every((r) => r.status === 401)) break;
                assert.ok(Date.now() - t0 < 1000, `still accepted after 1 s: ${rs.map((r) => r.status)}`);
                await sleep(20);
            }
            assert.equal(psql(rep, `SELECT count(*) FROM core.consents WHERE consent_id = '${cid}'`), '0', 'the replica still lags');
        } finally {
            psql(rep, 'SELECT pg_wal_replay_resume()');
        }
    });

    test('a refresh the replica has not replayed yet: reads stay on the primary until it has', async () => {
        const rep = replica.conninfo('klimaspejl');
        psql(rep, 'SELECT pg_wal_replay_pause()');
        try {
            // a release bumps a version only where rows changed: change one hour's grid intensity first
            psql(primary.conninfo('klimaspejl'),
                'UPDATE core.grid_intensity_hourly SET g_per_kwh = g_per_kwh + 1 WHERE hour_utc = (SELECT min(hour_utc) FROM core.grid_intensity_hourly)');
            const r = runCli(['refresh', DATASET], { env: env(primary.conninfo('klimaspejl')) });
            assert.equal(r.status, 0, r.stderr);
            const version = psql(primary.conninfo('klimaspejl'), `SELECT version FROM meta.datasets WHERE id = '${DATASET}'`);
            assert.notEqual(psql(rep, `SELECT version FROM meta.datasets WHERE id = '${DATASET}'`), version, 'the replica lags');
            await sleep(500); // NOTIFY klima_dataset_refreshed reaches both workers
            await sleep(1100);
            const [replicaBefore, primaryBefore] = [
                await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' }),
                await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'primary' }),
            ];
            for (let i = 0; i < 20; ++i) assert.equal((await get(srv.port, freshPath())).status, 200);
            await sleep(1100);
            assert.equal(await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' }), replicaBefore, 'no read on the lagging replica');
            assert.ok((await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'primary' })) >= primaryBefore + 20, 'reads on the primary');
        } finally {
            psql(rep, 'SELECT pg_wal_replay_resume()');
        }
        const replicaAtResume = await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' });
        const t0 = Date.now();
        for (;;) {
            for (let i = 0; i < 5; ++i) assert.equal((await get(srv.port, freshPath())).status, 200);
            await sleep(250);
            if ((await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' })) > replicaAtResume) break;
            assert.ok(Date.now() - t0 < 5000, 'reads return to the replica within 5 s of its catching up');
        }
        process.stderr.write(`# reads back on the replica ${Date.now() - t0} ms after replay resumed\n`);
    });

    test('replica stopped under load: no failures beyond those in flight, reads move to the primary; started: used again', async () => {
        let loading = true;
        let inFlight = 0;
        const statuses = new Map();
        const failures = [];
        const loader = async () => {
            while (loading) {
                ++inFlight;
                const r = await get(srv.port, freshPath());
                --inFlight;
                statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
                if (r.status !== 200) failures.push(`${r.status} ${r.body.slice(0, 200)}`);
            }
        };
        const loaders = Array.from({ length: 12 }, loader);
        let inFlightAtStop;
        try {
            await sleep(1000);
            const primaryReadsBefore = await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'primary' });
            inFlightAtStop = inFlight;
            await pgCtlAsync(['stop', '-D', replica.data, '-m', 'fast', '-w', '-s']);
            const okAtStop = statuses.get(200) || 0;
            await sleep(2000);
            assert.ok((statuses.get(200) || 0) > okAtStop + 20, 'requests kept succeeding with the replica down');
            const primaryReads = await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'primary' });
            assert.ok(primaryReads > primaryReadsBefore + 20, `reads moved to the primary (${primaryReadsBefore} -> ${primaryReads})`);
            assert.equal(await metric(srv.port, 'klimaspejl_db_replica_connections', { state: 'ready' }), 0);

            replica.start(); // blocks this process for a moment; the server keeps serving from the primary meanwhile
            const started = Date.now();
            const replicaReads = await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' });
            let back = false;
            while (Date.now() - started < 8000) {
                await sleep(250);
                if ((await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'replica' })) > replicaReads + 10) {
                    back = true;
                    break;
                }
            }
            assert.ok(back, 'the replica answers reads again within 8 s of its start');
            process.stderr.write(`# replica used again ${Date.now() - started} ms after pg_ctl start returned\n`);
        } finally {
            loading = false;
            await Promise.all(loaders);
        }
        const retried = await metric(srv.port, 'klimaspejl_db_reads_total', { target: 'primary_retry' });
        process.stderr.write(
            `# statuses ${JSON.stringify(Object.fromEntries(statuses))}, in flight at the stop ${inFlightAtStop}, ` +
                `retried on the primary ${retried}\n`,
        );
        assert.ok(failures.length <= inFlightAtStop, `at most the ${inFlightAtStop} in-flight requests failed: ${failures.slice(0, 5).join('; ')}`);
        assert.ok(failures.every((f) => f.startsWith('503 ')), `only 503s: ${failures.slice(0, 5).join('; ')}`);
        // one ready connection suffices for reads to return; the others come back within their backoff (at most 1 s)
        for (const t0 = Date.now(); sessions(replica.conninfo('klimaspejl')) < 4 && Date.now() - t0 < 3000; await sleep(100));
        assert.equal(sessions(replica.conninfo('klimaspejl')), 4, 'the server reconnected all its replica connections');
    });

    test('SIGTERM: exit 0, no sanitizer report', async () => {
        agent.destroy();
        await sleep(300);
        assertCleanExit(assert, await srv.stop());
    });
});
