// rapidreset.test.mjs — HTTP/2 rapid reset (CVE-2023-44487; Debian's libh2o 2.2.5 has no fix): 2,000 HEADERS+RST_STREAM
// pairs of uncached records queries on one connection, written as fast as the socket takes them by a raw frame writer
// (tests/integration/h2raw.mjs). The server must drop the queries of streams reset before their query was sent, answer
// the connection with GOAWAY (ENHANCE_YOUR_CALM) and close it once it abandoned more than KLIMA_H2_MAX_RESETS streams in
// a second, and stay fully usable: at most 50 queries reach PostgreSQL (klimaspejl_db_queries_sent_total, minus the
// legitimate ones), no pool connection times out, and a legitimate uncached query sent meanwhile from another address
// succeeds every time.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { getHeaders, RawH2, rstStream } from './h2raw.mjs';
import { assertCleanExit, request, sleep, startServer } from './harness.mjs';

// The sum of every sample of a metric family (all labels), from /metrics.
async function metric(port, name) {
    const r = await request(port, { path: '/metrics' });
    let sum = 0;
    for (const line of r.body.split('\n')) {
        const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
        if (m) sum += Number(m[2]);
    }
    return sum;
}

// One uncached records query from 127.0.0.20 (not the attacker's address: its rate limit is its own).
function legitQuery(port, i) {
    return new Promise((resolve, reject) => {
        const path = `/v1/datasets/energy-district-daily/records?district_id=eq:${(i % 10) + 1}&limit=${(i % 97) + 2}`;
        const req = http.get({ host: '127.0.0.1', port, path, localAddress: '127.0.0.20', agent: false, timeout: 15_000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
        });
        req.on('timeout', () => req.destroy(new Error('legitimate query: no answer within 15 s')));
        req.on('error', reject);
    });
}

describe('HTTP/2 rapid reset', () => {
    let srv;
    before(async () => {
        // KLIMA_RATE_SYNC_MS=0: the rate-limit syncs (a query per worker every 250 ms) would blur the count of the
        // attack's queries
        srv = await startServer({ env: { KLIMA_RATE_OPEN: '100000/60', KLIMA_RATE_SYNC_MS: '0' } });
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    test('2,000 HEADERS+RST_STREAM pairs: GOAWAY, at most 50 queries reach PostgreSQL, legitimate queries all succeed', async () => {
        const port = srv.port;
        const sentBefore = await metric(port, 'klimaspejl_db_queries_sent_total');
        const failedBefore = await metric(port, 'klimaspejl_db_queries_total\\{result="failed"\\}');

        // the legitimate client: one uncached query after another for the whole attack
        let stop = false;
        const statuses = [];
        const legit = (async () => {
            for (let i = 0; !stop; ++i) statuses.push(await legitQuery(port, i));
        })();
        await sleep(200);

        const conn = new RawH2(port, { localAddress: '127.0.0.1' });
        await conn.ready;
        const frames = [];
        for (let i = 0; i < 2000; ++i) {
            const id = 2 * i + 1;
            // each stream asks for a different target, so no response cache can answer it
            frames.push(getHeaders(id, `/v1/datasets/energy-district-hourly/records?limit=${(i % 500) + 1}&district_id=eq:${(i % 10) + 1}`));
            frames.push(rstStream(id));
        }
        const bytes = Buffer.concat(frames);
        const t0 = Date.now();
        conn.write(bytes);
        await conn.drained();
        const wrote = Date.now() - t0;
        for (let i = 0; i < 100 && !conn.closed; ++i) await sleep(50);
        stop = true;
        await legit;
        await sleep(1500); // every worker publishes its pool counters once a second

        const sent = (await metric(port, 'klimaspejl_db_queries_sent_total')) - sentBefore;
        const failed = (await metric(port, 'klimaspejl_db_queries_total\\{result="failed"\\}')) - failedBefore;
        const goaways = await metric(port, 'klimaspejl_http2_goaway_resets_total');
        const note = `${bytes.length} bytes written in ${wrote} ms; ${statuses.length} legitimate queries; ${sent} queries sent in all`;
        assert.ok(conn.goaways.length >= 1, `no GOAWAY seen by the client (${note})`);
        assert.equal(conn.goaways[0].code, 11, 'GOAWAY carries ENHANCE_YOUR_CALM (0xb)');
        assert.ok(conn.closed, 'the server closed the connection');
        assert.ok(goaways >= 1, 'klimaspejl_http2_goaway_resets_total counts it');
        assert.ok(statuses.length >= 3, note);
        assert.deepEqual(statuses.filter((s) => s !== 200), [], `every legitimate query got 200 (${note})`);
        assert.ok(sent - statuses.length <= 50, `at most 50 of the attack's queries reached PostgreSQL (${note})`);
        assert.equal(failed, 0, 'no query failed (no pool timeout, no lost connection)');
        assert.doesNotMatch(srv.output(), /database connection lost|no answer within the timeout/);
        console.log(`# rapid reset: ${note}; GOAWAY last stream ${conn.goaways[0].lastStream}`);
        conn.close();
    });
});
