// ratelimit.test.mjs — rate limits per route class (app/gate.c): a burst ends in 429 problem+json with Retry-After and
// the RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11); addresses behind a trusted proxy
// (X-Forwarded-For) have separate buckets; a verified consent token is counted per client id, independently of the
// address; 304 revalidations give their token back; hits are counted per class in /metrics; KLIMA_RATE_LIMIT=0 turns it
// all off; the access log names the authenticated app and never an address.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, h2request, psql, request, ROOT, runCli, startServer, waitReady } from './harness.mjs';

const GEOIP = path.join(ROOT, 'tests/fixtures/geoip/test-country.mmdb');

function mint(env, household, client, scope) {
    const r = runCli(['token', '--household', household, '--scope', scope, '--client', client], { env });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').pop().trim();
}

// RateLimit: "open";r=4;t=12 -> { name: 'open', r: 4, t: 12 }
function limitOf(res) {
    const m = /^"([a-z-]+)";r=(\d+);t=(\d+)$/.exec(String(res.headers.ratelimit));
    assert.ok(m, `RateLimit field: ${res.headers.ratelimit}`);
    return { name: m[1], r: Number(m[2]), t: Number(m[3]) };
}

function assert429(res, policy) {
    assert.equal(res.status, 429, res.body);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const p = JSON.parse(res.body);
    assert.equal(p.status, 429);
    assert.equal(p.type, '/docs/problems#too-many-requests');
    assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
    assert.equal(res.headers['ratelimit-policy'], policy);
    assert.equal(limitOf(res).r, 0);
}

describe('rate limits', () => {
    let srv;
    let keys;
    let env;
    let client;
    let token;

    const get = (p, ip, headers = {}) => request(srv.port, { path: p, headers: { 'x-forwarded-for': ip, ...headers } });

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        env = { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
        assert.equal(runCli(['keygen'], { env }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Rate test', '--redirect-uri', 'http://127.0.0.1:9/cb'], { env });
        assert.equal(c.status, 0, c.stderr);
        client = /client_id\s+(\S+)/.exec(c.stdout)[1];
        const household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1').trim();
        token = mint(env, household, client, 'summary:read');
        // one worker thread: every request meets the same buckets
        srv = await startServer({
            threads: '1',
            env: {
                KLIMA_KEYS_DIR: keys,
                KLIMA_TRUSTED_PROXIES: '127.0.0.1',
                KLIMA_GEOIP_DB: GEOIP,
                KLIMA_ACCESS_LOG: '1',
                KLIMA_RATE_OPEN: '5/60',
                KLIMA_RATE_PERSONAL: '4/60',
                KLIMA_RATE_CLIENT_FACTOR: '2',
            },
        });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test('a burst on an open route ends in 429 with Retry-After and RateLimit fields; every response has them', async () => {
        const ip = '81.0.10.1';
        for (let i = 0; i < 5; ++i) {
            const r = await get('/v1/datasets', ip);
            assert.equal(r.status, 200, r.body);
            assert.equal(r.headers['ratelimit-policy'], '"open";q=5;w=60');
            const l = limitOf(r);
            assert.equal(l.name, 'open');
            assert.equal(l.r, 4 - i);
            assert.ok(l.t >= 1 && l.t <= 60, `t=${l.t}`);
        }
        const refused = await get('/v1/datasets', ip);
        assert429(refused, '"open";q=5;w=60');
        assert.ok(Number(refused.headers['retry-after']) <= 12, `a token comes back every 12 s: ${refused.headers['retry-after']}`);
        // the same over HTTP/2 (same address, same bucket)
        const h2 = await h2request(srv.port, { path: '/v1/datasets', headers: { 'x-forwarded-for': ip } });
        assert.equal(h2.status, 429);
        assert.equal(h2.headers['ratelimit-policy'], '"open";q=5;w=60');
        // service routes are not limited by default
        for (let i = 0; i < 8; ++i) assert.equal((await get('/healthz', ip)).status, 200);
    });

    test('each address behind the trusted proxy has its own bucket', async () => {
        const a = '81.0.11.1';
        const b = '81.0.11.2';
        for (let i = 0; i < 5; ++i) assert.equal((await get('/v1/emission-factors', a)).status, 200);
        assert.equal((await get('/v1/emission-factors', a)).status, 429);
        const other = await get('/v1/emission-factors', b);
        assert.equal(other.status, 200);
        assert.equal(limitOf(other).r, 4);
        // a client behind an untrusted peer cannot pick its bucket: the header is ignored when the peer is not trusted
        // (here the peer is trusted, so a second hop to the left is still the client itself)
        assert.equal((await get('/v1/emission-factors', `8.8.8.8, ${a}`)).status, 429);
    });

    // Issue 15, must-show 5: the rate-limit key is the address geo/client.c finds (every X-Forwarded-For line joined,
    // walked from the right past the trusted proxy): varying a forged first line, or splitting the header into lines,
    // does not give a client a new bucket.
    test('X-Forwarded-For as one line, two lines or with a forged first line: one client, one bucket', async () => {
        const real = '81.0.14.1';
        const forms = [
            () => real,
            (i) => `203.0.113.${i}, ${real}`,
            (i) => [`203.0.113.${i}`, real],
            (i) => [`203.0.113.${i}, 198.51.100.${i}`, real],
        ];
        for (let i = 0; i < 5; ++i) {
            const r = await get('/v1/datasets', forms[i % forms.length](i + 1));
            assert.equal(r.status, 200, r.body);
            assert.equal(limitOf(r).r, 4 - i, `request ${i + 1} counts against ${real}`);
        }
        for (const f of forms) assert429(await get('/v1/datasets', f(99)), '"open";q=5;w=60');
        // the same forged first lines in front of another real address are that address's requests
        const other = await get('/v1/datasets', [`203.0.113.1`, '81.0.14.2']);
        assert.equal(other.status, 200);
        assert.equal(limitOf(other).r, 4);
    });

    test('304 revalidations do not consume tokens', async () => {
        const ip = '81.0.12.1';
        const p = '/v1/datasets/energy-district-daily/records?limit=2';
        const first = await get(p, ip);
        assert.equal(first.status, 200, first.body);
        assert.equal(limitOf(first).r, 4);
        const etag = first.headers.etag;
        assert.ok(etag, 'ETag');
        for (let i = 0; i < 12; ++i) {
            const r = await get(p, ip, { 'if-none-match': etag });
            assert.equal(r.status, 304);
            assert.equal(limitOf(r).r, 4, 'the 304 gave its token back');
        }
        const again = await get(p, ip);
        assert.equal(again.status, 200);
        assert.equal(limitOf(again).r, 3);
    });

    test('a verified token is counted per client id, independently of the address bucket', async () => {
        const ip = '81.0.13.1';
        const auth = { authorization: `Bearer ${token}` };
        // the first use verifies the token (counted on the address); from then on it is in the cache
        const first = await get('/v1/me/summary', ip, auth);
        assert.ok(first.status === 200 || first.status === 404, first.body);
        assert.equal(first.headers['ratelimit-policy'], '"personal";q=4;w=60');
        // the address bucket runs dry without the token (401s count too) ...
        let last;
        for (let i = 0; i < 4; ++i) last = await get('/v1/me/summary', ip);
        assert429(last, '"personal";q=4;w=60');
        // ... while the app's bucket (4 x factor 2) still serves the same address with the token
        for (let i = 0; i < 8; ++i) {
            const r = await get('/v1/me/summary', ip, auth);
            assert.ok(r.status === 200 || r.status === 404, r.body);
            assert.equal(r.headers['ratelimit-policy'], '"personal-client";q=8;w=60');
            assert.equal(limitOf(r).r, 7 - i);
        }
        const dry = await get('/v1/me/summary', '81.0.13.2', auth);
        assert429(dry, '"personal-client";q=8;w=60');
        // another address is not affected by the app's empty bucket
        assert.equal((await get('/v1/me/summary', '81.0.13.3')).status, 401);
        // open routes count the app too once its token is known
        const open = await get('/v1/datasets', '81.0.13.4', auth);
        assert.equal(open.status, 200);
        assert.equal(open.headers['ratelimit-policy'], '"open-client";q=10;w=60');
    });

    test('hits are counted by route class in /metrics', async () => {
        const text = (await request(srv.port, { path: '/metrics' })).body;
        const value = (cls) => Number(new RegExp(`^klimaspejl_ratelimit_hits_total\\{class="${cls}"\\} (\\d+)`, 'm').exec(text)?.[1]);
        assert.ok(value('open') >= 3, text.split('\n').filter((l) => l.includes('ratelimit')).join('\n'));
        assert.ok(value('personal') >= 2);
        assert.equal(value('download'), 0);
    });

    test('the access log names the authenticated app and holds no address', async () => {
        // lines are flushed every 100 ms
        await new Promise((r) => setTimeout(r, 300));
        const lines = srv
            .output()
            .split('\n')
            .filter((l) => l.startsWith('{"ts"'))
            .map((l) => JSON.parse(l));
        const personal = lines.filter((e) => e.route === '/v1/me/summary');
        assert.ok(personal.some((e) => e.client === client), 'a /v1/me/summary line with the client id');
        assert.ok(personal.some((e) => e.status === 401 && e.client === undefined), 'unauthenticated lines have no client');
        assert.ok(lines.some((e) => e.status === 429));
        for (const e of lines) assert.ok(e.client === undefined || e.client === client);
        assert.ok(!/81\.0\.|127\.0\.0\.1|8\.8\.8\.8/.test(lines.map((e) => JSON.stringify(e)).join('\n')), 'no address in the log');
        assert.ok(lines.every((e) => e.country === 'DK' || e.country === 'ZZ' || e.country === 'US'));
    });
});

// Two instances of two worker threads each on one database, as behind a load balancer: the quota of an address holds
// for the whole service (each worker decides alone, and reconciles its buckets through PostgreSQL every
// KLIMA_RATE_SYNC_MS), where before it was the quota times threads times instances.
describe('rate limits shared by every worker of every instance', () => {
    const QUOTA = 5;
    let keys;
    const servers = {};

    async function start(name, syncMs) {
        servers[name] = await startServer({
            threads: '2',
            env: {
                KLIMA_KEYS_DIR: keys,
                KLIMA_TRUSTED_PROXIES: '127.0.0.1',
                KLIMA_ACCESS_LOG: '0',
                KLIMA_RATE_OPEN: `${QUOTA}/60`,
                KLIMA_RATE_SYNC_MS: String(syncMs),
            },
        });
        await waitReady(servers[name].port);
        return servers[name];
    }

    // n requests from address ip, alternating between the instances, each on a new connection (so either worker thread
    // of an instance may take it), gapMs apart. Returns the statuses in order.
    async function paced(a, b, ip, n, gapMs) {
        const out = [];
        for (let i = 0; i < n; ++i) {
            const srv = i % 2 === 0 ? a : b;
            const r = await request(srv.port, { path: '/openapi.json', headers: { 'x-forwarded-for': ip } });
            out.push(r.status);
            await new Promise((res) => setTimeout(res, gapMs));
        }
        return out;
    }

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        assert.equal(runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keys } }).status, 0);
        await start('a', 100);
        await start('b', 100);
    });
    after(async () => {
        for (const srv of Object.values(servers)) assertCleanExit(assert, await srv.stop());
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test(`${QUOTA} requests a minute from one address, across 2 instances x 2 threads: exactly ${QUOTA} get 200`, async () => {
        const statuses = await paced(servers.a, servers.b, '81.0.30.1', 14, 300);
        console.log(`# shared rate limits: ${statuses.join(' ')}`);
        assert.deepEqual(statuses, [...Array(QUOTA).fill(200), ...Array(14 - QUOTA).fill(429)]);
        // the RateLimit field counts the whole service: a fresh address's second request, on the other instance, sees
        // the first one
        const first = await request(servers.a.port, { path: '/openapi.json', headers: { 'x-forwarded-for': '81.0.30.2' } });
        await new Promise((res) => setTimeout(res, 300));
        const second = await request(servers.b.port, { path: '/openapi.json', headers: { 'x-forwarded-for': '81.0.30.2' } });
        assert.match(String(first.headers.ratelimit), new RegExp(`^"open";r=${QUOTA - 1};t=`));
        assert.match(String(second.headers.ratelimit), new RegExp(`^"open";r=${QUOTA - 2};t=`));
    });

    test('a burst at both instances at once: at most what the workers grant before they sync, then 429 everywhere', async () => {
        const ip = '81.0.30.3';
        const burst = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
                request((i % 2 ? servers.b : servers.a).port, { path: '/openapi.json', headers: { 'x-forwarded-for': ip } })),
        );
        const granted = burst.filter((r) => r.status === 200).length;
        console.log(`# shared rate limits: a burst of 40 at once granted ${granted} (quota ${QUOTA}, 4 workers)`);
        assert.ok(granted >= QUOTA && granted <= 4 * QUOTA, `${granted} granted`);
        await new Promise((res) => setTimeout(res, 500));
        const later = await Promise.all(
            Array.from({ length: 8 }, (_, i) =>
                request((i % 2 ? servers.b : servers.a).port, { path: '/openapi.json', headers: { 'x-forwarded-for': ip } })),
        );
        assert.deepEqual(later.map((r) => r.status), Array(8).fill(429));
    });

    test('with KLIMA_RATE_SYNC_MS=0 each thread counts alone: the same requests get more than the quota', async () => {
        const c = await start('c', 0);
        const d = await start('d', 0);
        const statuses = await paced(c, d, '81.0.30.4', 14, 50);
        const granted = statuses.filter((st) => st === 200).length;
        console.log(`# per-thread rate limits: ${statuses.join(' ')}`);
        assert.ok(granted > QUOTA, `${granted} granted`);
    });
});

describe('rate limits off', () => {
    test('KLIMA_RATE_LIMIT=0: no 429 and no RateLimit fields', async () => {
        const srv = await startServer({ threads: '1', env: { KLIMA_RATE_LIMIT: '0', KLIMA_RATE_OPEN: '1/60' } });
        try {
            for (let i = 0; i < 4; ++i) {
                const r = await request(srv.port, { path: '/openapi.json' });
                assert.equal(r.status, 200);
                assert.equal(r.headers.ratelimit, undefined);
                assert.equal(r.headers['ratelimit-policy'], undefined);
            }
        } finally {
            assertCleanExit(assert, await srv.stop());
        }
    });

    test('a bad rate setting stops the server with a message naming it', () => {
        const r = runCli(['serve', '--rate-open', '10 per minute']);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, /KLIMA_RATE_OPEN/);
        const help = runCli(['serve', '--help']);
        for (const name of ['KLIMA_RATE_LIMIT', 'KLIMA_RATE_OPEN', 'KLIMA_RATE_DOWNLOAD', 'KLIMA_RATE_PERSONAL', 'KLIMA_RATE_OAUTH',
            'KLIMA_RATE_FEEDBACK', 'KLIMA_RATE_SERVICE', 'KLIMA_RATE_CLIENT_FACTOR', 'KLIMA_RATE_SYNC_MS']) {
            assert.ok(help.stdout.includes(name), name);
        }
    });
});
