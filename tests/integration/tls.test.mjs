// tls.test.mjs — HTTPS with KLIMA_TLS_CERT/KLIMA_TLS_KEY: HTTP/2 and HTTP/1.1 chosen by ALPN (node and curl), TLS 1.3 by
// default and TLS 1.2 with AEAD suites only, TLS 1.1 and CBC suites refused, session resumption by ticket, the handshake
// timeout, Strict-Transport-Security on every response over TLS and never over plain HTTP, Secure cookies under TLS, and
// a clear start-up error (exit code non-zero, the setting named) for a missing, broken or mismatched certificate or key.
// The certificate is a throw-away self-signed one made with the openssl command line tool; clients verify it as their
// only trusted root.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { BIN, DB_ADMIN_URL, DB_URL, assertCleanExit, freePort, request, runCli, sleep, startServer } from './harness.mjs';

const HSTS = 'max-age=31536000; includeSubDomains';
// a handshake the server refused: the connection is closed (or, with another TLS stack, an alert arrives)
const REFUSED = /^(ECONNRESET|EPIPE|ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)$/;
const REDIRECT = 'https://app.example/cb';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-tls-'));
const CERT = path.join(dir, 'cert.pem');
const KEY = path.join(dir, 'key.pem');
const OTHER_KEY = path.join(dir, 'other-key.pem');

function openssl(args) {
    const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
    return r;
}

// A P-256 certificate for localhost and 127.0.0.1, valid for two days, and a second key that does not belong to it.
function makeCertificate() {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', KEY, '-out', CERT,
        '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', OTHER_KEY]);
}

// Client options that trust only the throw-away certificate and check the host name.
const tlsOpts = () => ({ host: '127.0.0.1', servername: 'localhost', ca: fs.readFileSync(CERT) });

// `klimaspejl serve` with TLS on a free port; waits until /healthz answers over HTTPS. Returns { port, output, stop }.
async function startTlsServer(env = {}) {
    const port = await freePort();
    const proc = spawn(BIN, ['serve'], {
        env: {
            ...process.env,
            KLIMA_LISTEN: `127.0.0.1:${port}`,
            KLIMA_DB_URL: DB_URL,
            KLIMA_THREADS: '2',
            KLIMA_LOG_LEVEL: 'info',
            KLIMA_ACCESS_LOG: '0',
            KLIMA_TLS_CERT: CERT,
            KLIMA_TLS_KEY: KEY,
            ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    let exitInfo = null;
    const exited = once(proc, 'exit').then(([code, signal]) => (exitInfo = { code, signal }));
    const handle = {
        port,
        output: () => out,
        async stop() {
            if (exitInfo === null) proc.kill('SIGTERM');
            const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
            await exited;
            clearTimeout(timer);
            await sleep(50);
            return { ...exitInfo, output: out };
        },
    };
    for (const deadline = Date.now() + 30_000; ;) {
        if (exitInfo !== null) throw new Error(`klimaspejl serve (TLS) exited early (${JSON.stringify(exitInfo)}):\n${out}`);
        const r = await httpsRequest(port, { path: '/healthz' }).catch(() => null);
        if (r?.status === 200) break;
        if (Date.now() > deadline) {
            proc.kill('SIGKILL');
            throw new Error(`klimaspejl serve (TLS) did not answer /healthz within 30 s:\n${out}`);
        }
        await sleep(100);
    }
    return handle;
}

// One HTTPS request over HTTP/1.1 on its own connection. Resolves { status, headers, body, alpn, protocol }.
function httpsRequest(port, { method = 'GET', path: p = '/', headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
        const req = https.request({ ...tlsOpts(), port, method, path: p, headers, agent: false, timeout: 10_000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () =>
                resolve({
                    status: res.statusCode,
                    headers: res.headers,
                    body: Buffer.concat(chunks).toString('utf8'),
                    alpn: res.socket?.alpnProtocol,
                }),
            );
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within 10 s`)));
        req.on('error', reject);
        req.end(body);
    });
}

// A TLS handshake only. Resolves { ok: true, protocol, cipher, alpn, session, reused } or { ok: false, code, message }.
function handshake(port, opts = {}) {
    return new Promise((resolve) => {
        let session = null;
        const sock = tls.connect({ ...tlsOpts(), port, ...opts });
        sock.on('session', (s) => (session = s));
        sock.once('secureConnect', async () => {
            const info = {
                ok: true,
                protocol: sock.getProtocol(),
                cipher: sock.getCipher().name,
                alpn: sock.alpnProtocol,
                reused: sock.isSessionReused(),
            };
            // TLS 1.3 tickets arrive after the handshake: give them a moment
            for (let i = 0; i < 20 && session === null; ++i) await sleep(25);
            sock.end();
            resolve({ ...info, session });
        });
        sock.once('error', (e) => resolve({ ok: false, code: e.code, message: e.message }));
    });
}

function curl(args) {
    return spawnSync('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('TLS: HTTPS, ALPN, protocol versions, HSTS', () => {
    let srv, plain, keysDir, clientId;

    before(async () => {
        makeCertificate();
        keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-tls-keys-'));
        assert.equal(runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keysDir } }).status, 0);
        const add = runCli(['client', 'add', '--redirect-uri', REDIRECT, '--name', 'TLS test app', '--first-party'], {
            env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL },
        });
        assert.equal(add.status, 0, add.stderr);
        clientId = /client_id (\S+)/.exec(add.stdout)[1];
        const env = { KLIMA_KEYS_DIR: keysDir, KLIMA_DEV_LOGIN: '1' };
        // the dev login refuses TLS unless forced (issue 15): this test drives the login over TLS on purpose
        [srv, plain] = await Promise.all([
            startTlsServer({ ...env, KLIMA_DEV_LOGIN: 'force', KLIMA_TLS_HANDSHAKE_TIMEOUT_MS: '2000' }),
            startServer({ env }),
        ]);
    });

    after(async () => {
        const results = await Promise.all([srv?.stop(), plain?.stop()]);
        for (const r of results) if (r) assertCleanExit(assert, r);
        if (keysDir) fs.rmSync(keysDir, { recursive: true, force: true });
    });

    test('the server says it listens on https', () => {
        assert.match(srv.output(), new RegExp(`listening on https://127\\.0\\.0\\.1:${srv.port} `));
    });

    test('curl negotiates HTTP/2 by ALPN, and HTTP/1.1 when it asks for it', () => {
        const base = ['--cacert', CERT, '--resolve', `localhost:${srv.port}:127.0.0.1`, '-o', '/dev/null', '-w', '%{http_version} %{http_code}'];
        const url = `https://localhost:${srv.port}/healthz`;
        let r = curl([...base, '--http2', url]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, '2 200');
        r = curl([...base, '--http1.1', url]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, '1.1 200');
        // verbose output shows the ALPN result and TLS 1.3
        r = curl(['-v', '--cacert', CERT, '--resolve', `localhost:${srv.port}:127.0.0.1`, '--http2', '-o', '/dev/null', url]);
        assert.match(r.stderr, /ALPN: server accepted h2/);
        assert.match(r.stderr, /SSL connection using TLSv1\.3/);
    });

    test('nghttp: h2 negotiated, SETTINGS_MAX_CONCURRENT_STREAMS 100, HSTS', () => {
        const r = spawnSync('nghttp', ['-nv', `https://127.0.0.1:${srv.port}/healthz`], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /The negotiated protocol: h2/);
        assert.match(r.stdout, /recv SETTINGS frame[\s\S]*SETTINGS_MAX_CONCURRENT_STREAMS\(0x03\):100/);
        assert.match(r.stdout, /:status: 200/);
        assert.match(r.stdout, /strict-transport-security: max-age=31536000; includeSubDomains/);
    });

    test('ALPN: h2 preferred, http/1.1 when offered alone, HTTP/1.1 without ALPN', async () => {
        assert.equal((await handshake(srv.port, { ALPNProtocols: ['http/1.1', 'h2'] })).alpn, 'h2');
        assert.equal((await handshake(srv.port, { ALPNProtocols: ['http/1.1'] })).alpn, 'http/1.1');
        const none = await handshake(srv.port, {});
        assert.ok(none.ok);
        assert.equal(none.alpn, false);
        const r = await httpsRequest(srv.port, { path: '/healthz' }); // node's https offers no ALPN: HTTP/1.1
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.body).status, 'ok');
    });

    test('node:http2 over TLS: a real query through the pool, HSTS on the response', async () => {
        const session = http2.connect(`https://localhost:${srv.port}`, { ...tlsOpts() });
        try {
            const res = await new Promise((resolve, reject) => {
                session.on('error', reject);
                const s = session.request({ ':path': '/readyz' });
                let headers;
                const chunks = [];
                s.on('response', (h) => (headers = h));
                s.on('data', (c) => chunks.push(c));
                s.on('end', () => resolve({ headers, body: Buffer.concat(chunks).toString('utf8') }));
                s.on('error', reject);
                s.end();
            });
            assert.equal(session.alpnProtocol, 'h2');
            assert.equal(session.encrypted, true);
            assert.equal(res.headers[':status'], 200, res.body);
            assert.equal(res.headers['strict-transport-security'], HSTS);
        } finally {
            session.close();
        }
    });

    test('TLS 1.3 by default; TLS 1.2 only with ECDHE + AEAD suites', async () => {
        const v13 = await handshake(srv.port);
        assert.ok(v13.ok, v13.message);
        assert.equal(v13.protocol, 'TLSv1.3');
        for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
            const r = await handshake(srv.port, { maxVersion: 'TLSv1.2', ciphers: cipher });
            assert.ok(r.ok, `${cipher}: ${r.message}`);
            assert.equal(r.protocol, 'TLSv1.2');
            assert.equal(r.cipher, cipher);
        }
        // CBC suites (with and without forward secrecy) are refused by the server, which closes the connection (libh2o
        // 2.2 drops a failed handshake without sending the alert)
        for (const cipher of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'AES128-SHA']) {
            const r = await handshake(srv.port, { maxVersion: 'TLSv1.2', ciphers: cipher });
            assert.equal(r.ok, false, `${cipher} was accepted`);
            assert.match(r.code, REFUSED, r.message);
        }
    });

    test('TLS 1.1 and 1.0 are refused by the server (protocol_version alert)', async () => {
        // SECLEVEL=0 lets this client offer the old versions at all, so the refusal is the server's
        for (const v of ['TLSv1.1', 'TLSv1']) {
            const r = await handshake(srv.port, { minVersion: v, maxVersion: v, ciphers: 'DEFAULT:@SECLEVEL=0' });
            assert.equal(r.ok, false, `${v} was accepted`);
            assert.match(r.code, REFUSED, r.message);
        }
        // openssl s_client sent its TLS 1.1 ClientHello and got no ServerHello back
        const s = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${srv.port}`, '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'], {
            input: '',
            encoding: 'utf8',
            timeout: 20_000,
        });
        assert.notEqual(s.status, 0);
        assert.match(s.stdout, /SSL handshake has read 0 bytes and written [1-9]\d* bytes/, s.stdout);
        assert.match(s.stdout, /Cipher is \(NONE\)/);
    });

    test('sessions resume with a ticket (TLS 1.3 and 1.2)', async () => {
        for (const maxVersion of ['TLSv1.3', 'TLSv1.2']) {
            const first = await handshake(srv.port, { maxVersion });
            assert.ok(first.ok && first.session, `${maxVersion}: no session ticket (${first.message})`);
            assert.equal(first.reused, false);
            const again = await handshake(srv.port, { maxVersion, session: first.session });
            assert.ok(again.ok, again.message);
            assert.equal(again.reused, true, `${maxVersion}: the session was not resumed`);
        }
    });

    test('Strict-Transport-Security on every response over TLS: 200, 404 problem, static page, early 413', async () => {
        for (const p of ['/healthz', '/v1/datasets', '/no/such/path', '/']) {
            const r = await httpsRequest(srv.port, { path: p });
            assert.equal(r.headers['strict-transport-security'], HSTS, `${p} (${r.status})`);
        }
        const big = await httpsRequest(srv.port, {
            method: 'POST',
            path: '/v1/feedback',
            headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) },
        }).catch((e) => e);
        assert.equal(big.status, 413, String(big.message ?? big.body));
        assert.equal(big.headers['strict-transport-security'], HSTS);
        assert.equal(JSON.parse(big.body).type, '/docs/problems#payload-too-large');
    });

    test('no Strict-Transport-Security over plain HTTP', async () => {
        for (const p of ['/healthz', '/no/such/path', '/']) {
            const r = await request(plain.port, { path: p });
            assert.equal(r.headers['strict-transport-security'], undefined, p);
        }
    });

    test('cookies are __Host- and Secure under TLS (dev login session) and over plain HTTP', async () => {
        const cookiesOf = async (send, port) => {
            const q = new URLSearchParams({
                response_type: 'code',
                client_id: clientId,
                redirect_uri: REDIRECT,
                state: 's',
                scope: 'summary:read',
                code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t2URWbuGJSstw-cM',
                code_challenge_method: 'S256',
            });
            let r = await send(port, { path: `/oauth/authorize?${q}` });
            assert.equal(r.status, 200, r.body);
            const field = (name) => /name="([^"]+)" value="([^"]*)"/g;
            const hidden = {};
            for (const m of r.body.matchAll(field())) hidden[m[1]] = m[2].replace(/&amp;/g, '&').replace(/&quot;/g, '"');
            const household = /name="household" value="([0-9a-f-]{36})"/.exec(r.body)[1];
            const jar = [].concat(r.headers['set-cookie'] || []);
            const cookie = jar.map((c) => c.split(';')[0]).join('; ');
            r = await send(port, {
                method: 'POST',
                path: '/oauth/login',
                headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
                body: new URLSearchParams({ csrf: hidden.csrf, q: hidden.q, household }).toString(),
            });
            assert.equal(r.status, 303, r.body);
            return [...jar, ...[].concat(r.headers['set-cookie'] || [])];
        };
        // __Host- cookies: Secure and Path=/ under TLS and without it (browsers keep Secure cookies of http://localhost
        // and http://127.0.0.1; README "Sign-in, sign-out and cookies")
        const secure = await cookiesOf(httpsRequest, srv.port);
        assert.ok(secure.some((c) => c.startsWith('__Host-klima_session=')), secure.join('\n'));
        for (const c of secure) assert.match(c, /^__Host-[^;]*; Path=\/;.*; Secure(;|$)/, c);
        const plainCookies = await cookiesOf(request, plain.port);
        assert.ok(plainCookies.some((c) => c.startsWith('__Host-klima_session=')), plainCookies.join('\n'));
        for (const c of plainCookies) assert.match(c, /^__Host-[^;]*; Path=\/;.*; Secure(;|$)/, c);
    });

    test('a handshake that stalls is closed after KLIMA_TLS_HANDSHAKE_TIMEOUT_MS', async () => {
        const sock = net.connect(srv.port, '127.0.0.1');
        await once(sock, 'connect');
        const t0 = Date.now();
        sock.write(Buffer.from([0x16, 0x03, 0x01])); // the first bytes of a ClientHello record, then nothing
        sock.resume();
        sock.on('error', () => {});
        const closedAt = await Promise.race([once(sock, 'close').then(() => Date.now()), sleep(10_000).then(() => null)]);
        sock.destroy();
        assert.ok(closedAt !== null, 'still open after 10 s');
        assert.ok(closedAt - t0 >= 1800 && closedAt - t0 < 6000, `closed after ${closedAt - t0} ms (timeout 2000 ms)`);
    });

    test('plain HTTP to the TLS port gets no HTTP answer', async () => {
        const r = await request(srv.port, { path: '/healthz' }).catch((e) => e);
        assert.ok(r instanceof Error, `plain HTTP was answered with ${r.status}`);
    });
});

describe('TLS: start-up errors name the setting and exit non-zero', () => {
    const bad = path.join(os.tmpdir(), `klima-tls-bad-${process.pid}`);

    before(() => {
        fs.mkdirSync(bad, { recursive: true });
        if (!fs.existsSync(CERT)) makeCertificate();
        fs.writeFileSync(path.join(bad, 'garbage.pem'), 'this is not a certificate\n');
    });
    after(() => {
        fs.rmSync(bad, { recursive: true, force: true });
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const serve = async (env) => {
        const r = runCli(['serve'], { env: { KLIMA_LISTEN: `127.0.0.1:${await freePort()}`, KLIMA_DB_URL: DB_URL, KLIMA_THREADS: '1', ...env }, timeout: 30_000 });
        return { ...r, out: r.stdout + r.stderr };
    };

    test('missing certificate file', async () => {
        const r = await serve({ KLIMA_TLS_CERT: path.join(bad, 'missing.pem'), KLIMA_TLS_KEY: KEY });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /KLIMA_TLS_CERT: cannot read '.*missing\.pem': No such file or directory/);
    });

    test('certificate file that is not PEM', async () => {
        const r = await serve({ KLIMA_TLS_CERT: path.join(bad, 'garbage.pem'), KLIMA_TLS_KEY: KEY });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /KLIMA_TLS_CERT: '.*garbage\.pem' is not a PEM certificate chain/);
    });

    test('missing and broken key files', async () => {
        let r = await serve({ KLIMA_TLS_CERT: CERT, KLIMA_TLS_KEY: path.join(bad, 'missing-key.pem') });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /KLIMA_TLS_KEY: cannot read '.*missing-key\.pem'/);
        r = await serve({ KLIMA_TLS_CERT: CERT, KLIMA_TLS_KEY: CERT });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /KLIMA_TLS_KEY: '.*cert\.pem' is not an unencrypted PEM private key/);
    });

    test('key that does not belong to the certificate', async () => {
        const r = await serve({ KLIMA_TLS_CERT: CERT, KLIMA_TLS_KEY: OTHER_KEY });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /KLIMA_TLS_KEY: the key in '.*other-key\.pem' does not belong to the certificate/);
    });

    test('only one of the two set', async () => {
        const r = await serve({ KLIMA_TLS_CERT: CERT });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /KLIMA_TLS_CERT and KLIMA_TLS_KEY: set both or neither/);
    });
});
