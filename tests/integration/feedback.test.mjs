// feedback.test.mjs — POST /v1/feedback and GET /v1/feedback/stats against a real server and the test database:
// valid feedback is stored without any IP address (only a country code), every kind of bad body gets a 4xx naming the
// field, HTML/script text is stored inert and never echoed, a flood gets 429 with Retry-After, the CLI lists escaped.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { assertCleanExit, DB_ADMIN_URL, psql, request, ROOT, runCli, sleep, startServer, waitReady } from './harness.mjs';

const json = { 'content-type': 'application/json' };

function post(port, body, headers = json) {
    return request(port, { method: 'POST', path: '/v1/feedback', headers, body });
}

function assertProblem(res, status, parameter) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json\b/);
    const p = JSON.parse(res.body);
    assert.equal(p.status, status);
    if (parameter !== undefined) assert.equal(p.parameter, parameter, res.body);
}

describe('citizen feedback', () => {
    let srv;
    // every request from a distinct (trusted-proxy-forwarded) client, so the rate limit only bites where meant to
    let n = 0;
    const from = () => ({ ...json, 'x-forwarded-for': `81.0.${Math.floor(++n / 250)}.${n % 250}` });

    // a consent token of one household (data-error reports linked to it)
    let keys;
    let household;
    let token;
    let narrowToken;

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        const env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Feedback test', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
        assert.equal(c.status, 0, c.stderr);
        const client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY md5(household_id::text) DESC LIMIT 1').trim();
        const mint = (scope) => {
            const r = runCli(['token', '--household', household, '--scope', scope, '--client', client], { env });
            assert.equal(r.status, 0, r.stderr);
            return r.stdout.trim().split('\n').pop().trim();
        };
        token = mint('summary:read');
        narrowToken = mint('energy:read');
        srv = await startServer({
            env: {
                KLIMA_TRUSTED_PROXIES: '127.0.0.1',
                KLIMA_GEOIP_DB: path.join(ROOT, 'tests/fixtures/geoip/test-country.mmdb'),
                KLIMA_KEYS_DIR: keys,
                KLIMA_ACCESS_LOG: '1',
            },
        });
        // both workers have their catalog (the dataset check needs it)
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        if (keys) fs.rmSync(keys, { recursive: true, force: true });
    });

    test('valid feedback is stored with a country and no address; stats count it', async () => {
        const marker = `marker-${process.pid}-${Date.now()}`;
        const r = await post(srv.port, JSON.stringify({ topic: 'dataset', dataset: 'energy-district-daily', rating: 4, message: marker }), from());
        assert.equal(r.status, 201, r.body);
        const body = JSON.parse(r.body);
        assert.equal(typeof body.id, 'number');
        const row = psql(DB_ADMIN_URL, `SELECT topic, dataset_id, rating, country, household_id IS NULL FROM core.feedback WHERE message = '${marker}'`);
        assert.equal(row.trim(), 'dataset|energy-district-daily|4|DK|t');
        const dump = psql(DB_ADMIN_URL, "SELECT count(*) FROM core.feedback WHERE message LIKE '%81.0.%'");
        assert.equal(dump.trim(), '0');
        const stats = await request(srv.port, { path: '/v1/feedback/stats' });
        assert.equal(stats.status, 200);
        const rows = JSON.parse(stats.body).rows;
        assert.ok(rows.some((x) => x.topic === 'dataset' && x.rating === 4 && x.count >= 1), stats.body);
        assert.ok(!stats.body.includes(marker), 'stats never contain message text');
    });

    test('a rating alone and a message alone are both accepted; HTML is stored as text and not echoed', async () => {
        assert.equal((await post(srv.port, JSON.stringify({ topic: 'idea', rating: 5 }), from())).status, 201);
        const html = `<script>alert("x")</script><b>mere cykelsti ${process.pid}-${Date.now()}</b>`;
        const r = await post(srv.port, JSON.stringify({ topic: 'idea', message: html }), from());
        assert.equal(r.status, 201);
        assert.ok(!r.body.includes('<script>'), 'the receipt does not echo the message');
        const stored = psql(DB_ADMIN_URL, `SELECT count(*) FROM core.feedback WHERE message = '${html.replace(/'/g, "''")}'`);
        assert.equal(stored.trim(), '1');
    });

    test('bad bodies get 4xx naming the field', async () => {
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea' }), from()), 400, 'message');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea', message: '   ' }), from()), 400, 'message');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea', message: 'x'.repeat(2001) }), from()), 400, 'message');
        assert.equal((await post(srv.port, JSON.stringify({ topic: 'idea', message: 'æ'.repeat(2000) }), from())).status, 201,
            '2,000 characters (4,000 bytes) are allowed');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea', rating: 0 }), from()), 400, 'rating');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea', rating: 6 }), from()), 400, 'rating');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea', rating: 2.5 }), from()), 400, 'rating');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'gossip', rating: 3 }), from()), 400, 'topic');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'dataset', dataset: 'no-such', rating: 3 }), from()), 400, 'dataset');
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea', rating: 3, extra: 1 }), from()), 400, 'body');
        assertProblem(await post(srv.port, '[1,2]', from()), 400);
        assertProblem(await post(srv.port, '{"topic":', from()), 400);
        assertProblem(await post(srv.port, Buffer.from([0x7b, 0x22, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), from()), 400);
        assertProblem(await post(srv.port, 'topic=idea', { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '81.0.9.9' }), 415);
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'idea', message: 'x'.repeat(20000) }), from()), 413);
    });

    test('a flood from one client gets 429 with Retry-After; another client is unaffected', async () => {
        const one = { ...json, 'x-forwarded-for': '81.0.200.1' };
        const statuses = [];
        let refused = null;
        for (let i = 0; i < 12; ++i) {
            const r = await post(srv.port, JSON.stringify({ topic: 'idea', rating: 3 }), one);
            statuses.push(r.status);
            if (r.status === 429) refused = r;
        }
        // each server thread keeps its own buckets (5 at once, 6 a minute), and the 12 posts are spread over the
        // threads: at least the first 3 pass and at least 2 are refused
        assert.ok(statuses.slice(0, 3).every((s) => s === 201), statuses.join(','));
        assert.ok(statuses.filter((s) => s === 429).length >= 2, statuses.join(','));
        const limited = refused;
        assert.ok(limited, 'a refused post was seen');
        assert.match(String(limited.headers['retry-after']), /^[1-9][0-9]*$/);
        assertProblem(limited, 429);
        assert.equal((await post(srv.port, JSON.stringify({ topic: 'idea', rating: 3 }), { ...json, 'x-forwarded-for': '81.0.201.1' })).status, 201);
    });

    test('a data-error report with a consent token is linked to the household; without one it stays anonymous', async () => {
        const tag = `data-error-${process.pid}-${Date.now()}`;
        const bearer = (t) => ({ ...from(), authorization: `Bearer ${t}` });
        const linked = await post(srv.port, JSON.stringify({ topic: 'data-error', message: `${tag} linked: March heating is doubled` }), bearer(token));
        assert.equal(linked.status, 201, linked.body);
        assert.ok(!linked.body.includes(household), 'the receipt does not echo the household');
        const anon = await post(srv.port, JSON.stringify({ topic: 'data-error', message: `${tag} anonymous` }), from());
        assert.equal(anon.status, 201, anon.body);
        // a valid token with another topic is verified but not stored: that feedback stays anonymous
        const idea = await post(srv.port, JSON.stringify({ topic: 'idea', message: `${tag} idea with token` }), bearer(token));
        assert.equal(idea.status, 201, idea.body);
        // a bad token is 401 (WWW-Authenticate), a token without summary:read is 403; neither is stored
        const bad = await post(srv.port, JSON.stringify({ topic: 'data-error', message: `${tag} bad token` }), bearer(`${token}x`));
        assertProblem(bad, 401);
        assert.match(String(bad.headers['www-authenticate']), /^Bearer/);
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'data-error', message: `${tag} garbage` }), bearer('not-a-jwt')), 401);
        const narrow = await post(srv.port, JSON.stringify({ topic: 'data-error', message: `${tag} narrow` }), bearer(narrowToken));
        assertProblem(narrow, 403);
        // a bad body is still 400 before the token is looked at
        assertProblem(await post(srv.port, JSON.stringify({ topic: 'data-error' }), bearer(token)), 400, 'message');
        const rows = psql(DB_ADMIN_URL, `SELECT split_part(message, ' ', 2), coalesce(household_id::text, '-'), client_id IS NOT NULL
                                         FROM core.feedback WHERE message LIKE '${tag}%' ORDER BY feedback_id`).split('\n');
        assert.deepEqual(rows, [`linked:|${household}|t`, 'anonymous|-|f', 'idea|-|f']);
        // staff see the household of the linked report, and only there
        const r = runCli(['feedback', 'list', '--topic', 'data-error', '--limit', '20'], { env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL } });
        assert.equal(r.status, 0, r.stderr);
        const lines = r.stdout.split('\n').filter((l) => l.includes(tag));
        assert.equal(lines.length, 2, r.stdout);
        assert.ok(lines.some((l) => l.split('\t')[6] === household && l.includes('linked:')), r.stdout);
        assert.ok(lines.some((l) => l.split('\t')[6] === 'anonymous' && l.includes(`${tag} anonymous`)), r.stdout);
        // the household id never reaches the server's output (access log and errors)
        assert.ok(!srv.output().includes(household), 'the household id is not logged');
        assert.ok(!srv.output().includes(token), 'the token is not logged');
    });

    test('klimaspejl feedback list shows messages escaped, one line each', async () => {
        assert.equal((await post(srv.port, JSON.stringify({ topic: 'idea', message: 'line one\nline two\u001b[31m' }), from())).status, 201);
        const r = runCli(['feedback', 'list', '--topic', 'idea', '--limit', '5'], { env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL } });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(r.stdout.includes('line one\\nline two\\x1b[31m'), r.stdout);
        assert.ok(!r.stdout.includes('\u001b'), 'no raw escape byte reaches the terminal');
        const bad = runCli(['feedback', 'list', '--limit', 'many'], { env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL } });
        assert.equal(bad.status, 2);
    });
});
