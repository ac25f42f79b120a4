// benchmarks/token-load.mjs — an HTTP/2 (h2c) load generator that can send a different bearer token with every
// request (h2load sends the same headers each time), and the minting of those tokens.
//
//   node token-load.mjs mint KEYS_DIR KID ISSUER CLIENT_ID SCOPE CONSENTS_FILE OUT_FILE
//       CONSENTS_FILE: one "household_id consent_id" per line. Signs one ES256 consent token per line with the
//       service key KEYS_DIR/KID.pem (node:crypto, the claims `klimaspejl token` writes: iss, sub, aud, scope, cid,
//       jti, iat, nbf, exp = now + 3600) and writes one token per line to OUT_FILE.
//   node token-load.mjs load URL PATHS_FILE TOKENS_FILE|- CONNECTIONS STREAMS SECONDS
//       Opens CONNECTIONS h2c connections and keeps STREAMS requests in flight on each for SECONDS seconds. Request i
//       uses path i mod (number of paths); the tokens (`-`: no Authorization header) are dealt to the connections —
//       token t always travels on connection t mod CONNECTIONS, as one app keeps its user's token on its connection —
//       and each connection rotates through its own. Before the clock starts, every token is sent once on its
//       connection (untimed), so the worker thread that serves the connection has verified and cached it: the figure
//       is the steady state of many users whose apps keep their tokens, not the first sight of each token (that
//       costs an ES256 verification and a consent check; the warm-up's duration is printed on stderr). Every
//       connection sends at least 20 untimed requests that way, with or without tokens, so both sides of a comparison
//       time connections (and a node) that have served already. Prints
//       "<requests per second> <requests, warm-up included>"; exits 1 (reason on stderr) if any response is not 2xx or a stream fails.
//   node token-load.mjs rate URL PATHS_FILE TOKENS_FILE|- CONNECTIONS RATE SECONDS
//       Open loop, for latency: request k is due at k / RATE seconds and is sent then, whatever the earlier ones are
//       doing (a slow server gets no breather, unlike `load`), for SECONDS seconds. Request k takes path k mod (number
//       of paths) and travels on connection k mod CONNECTIONS with that connection's next token (dealt as in `load`,
//       with the same untimed warm-up first; its latencies are the first sight of each token). A request's latency
//       runs from its send to its last byte. Prints one line of key=value figures: sent, ok (2xx), bad (other
//       statuses), errors (failed or unanswered streams), secs, rate (answered per second), p50 p90 p99 max (ms, over
//       the answered requests), lag_p99 lag_max (ms a request went out after it was due: when they grow, the
//       generator was behind, not the server), warm_n warm_s warm_p50 warm_p99 warm_max for the warm-up, and cpu_s
//       warm_cpu_s (this process's own CPU seconds in the timed part and in the warm-up). Writes
//       "token-load: clock started" on stderr when the timed part begins, the first failure's reason at the end.
//       Exits 1 only when it cannot connect: the caller judges the counts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function mint([keysDir, kid, issuer, client, scope, consentsFile, outFile]) {
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(keysDir, `${kid}.pem`)));
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid }));
    const out = [];
    for (const line of fs.readFileSync(consentsFile, 'utf8').split('\n')) {
        const [household, cid] = line.trim().split(/\s+/);
        if (!household || !cid) continue;
        const claims = { iss: issuer, sub: household, aud: client, scope, cid, jti: crypto.randomUUID(), iat: now, nbf: now, exp: now + 3600 };
        const input = `${header}.${b64url(JSON.stringify(claims))}`;
        const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
        out.push(`${input}.${b64url(sig)}`);
    }
    fs.writeFileSync(outFile, `${out.join('\n')}\n`);
    process.stdout.write(`${out.length}\n`);
}

const lines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

// Each connection's own tokens (token t goes to connection t mod nconn), as ready-made header values.
const deal = (tokens, nconn) =>
    Array.from({ length: nconn }, (_, c) => tokens.filter((_t, i) => i % nconn === c).map((t) => `Bearer ${t}`));

// nconn h2c sessions to url, once all are connected; a later session error goes to onError.
async function connectAll(url, nconn, onError) {
    const sessions = [];
    for (let c = 0; c < nconn; ++c) {
        const s = http2.connect(url);
        s.on('error', (e) => onError(`connection error: ${e.message}`));
        sessions.push(s);
    }
    await Promise.all(sessions.map((s) => new Promise((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
    })));
    return sessions;
}

async function load([url, pathsFile, tokensFile, connections, streams, seconds]) {
    const paths = lines(pathsFile);
    const tokens = tokensFile === '-' ? [] : lines(tokensFile);
    const nconn = Number(connections);
    const nstreams = Number(streams);
    const ms = Number(seconds) * 1000;
    const auth = deal(tokens, nconn);
    const cursor = new Array(nconn).fill(0);
    let next = 0;
    let done = 0;
    let failure = null;
    let stop = false;
    const sessions = await connectAll(url, nconn, (why) => (failure ??= why));
    // every connection sends at least WARM requests untimed, with or without tokens, so both sides of a comparison
    // start their clocks on connections (and a node) that have already served requests
    const WARM = 20;
    const warmUntil = auth.map((a) => Math.max(a.length, WARM));
    let warming = true;
    let deadline = Infinity;
    const fire = (s, c) => new Promise((resolve) => {
        const loop = () => {
            if (stop || failure !== null) return resolve();
            if (warming && cursor[c] >= warmUntil[c]) return resolve();
            const i = next++;
            const headers = { ':path': paths[i % paths.length] };
            if (auth[c].length) headers.authorization = auth[c][cursor[c] % auth[c].length];
            cursor[c] += 1;
            const req = s.request(headers);
            let status = 0;
            req.on('response', (h) => (status = h[':status']));
            req.on('data', () => {});
            req.on('end', () => {
                if (status < 200 || status > 299) failure ??= `status ${status} for ${headers[':path']}`;
                else if (Date.now() <= deadline) done += 1;
                loop();
            });
            req.on('error', (e) => {
                failure ??= `stream error: ${e.message}`;
                resolve();
            });
            req.end();
        };
        loop();
    });
    const run = () => Promise.all(sessions.flatMap((s, c) => Array.from({ length: nstreams }, () => fire(s, c))));
    let warmed = 0;
    if (warming) {
        const w0 = Date.now();
        await run();
        warmed = done;
        warming = false;
        if (tokens.length > 0)
            process.stderr.write(`token-load: ${tokens.length} tokens sent once (warm-up) in ${((Date.now() - w0) / 1000).toFixed(1)} s\n`);
    }
    done = 0;
    const t0 = process.hrtime.bigint();
    deadline = Date.now() + ms;
    setTimeout(() => (stop = true), ms);
    await run();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const s of sessions) s.close();
    if (failure !== null) {
        process.stderr.write(`token-load: ${failure}\n`);
        process.exit(1);
    }
    if (done === 0) {
        process.stderr.write('token-load: no request completed\n');
        process.exit(1);
    }
    // the second figure counts the warm-up's requests too (for the server's CPU time per request)
    process.stdout.write(`${(done / Math.min(secs, ms / 1000)).toFixed(2)} ${done + warmed}\n`);
}

// The value at percentile p of an ascending array (nearest rank); NaN when it is empty.
const rank = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN);
const ms2 = (v) => (Number.isNaN(v) ? '-' : v.toFixed(2));

// One request on session s; calls back with its status (0: the stream failed, with the reason) and its latency in ms.
function send(s, headers, cb) {
    const t = performance.now();
    let status = 0;
    let settled = false;
    const settle = (why) => {
        if (settled) return;
        settled = true;
        cb(why === null ? status : 0, performance.now() - t, why);
    };
    const req = s.request(headers);
    req.on('response', (h) => (status = h[':status']));
    req.on('data', () => {});
    req.on('end', () => settle(null));
    req.on('error', (e) => settle(`stream error: ${e.message}`));
    req.on('close', () => settle(status ? null : 'stream closed without a response'));
    req.end();
}

async function rate([url, pathsFile, tokensFile, connections, perSecond, seconds]) {
    const paths = lines(pathsFile);
    const tokens = tokensFile === '-' ? [] : lines(tokensFile);
    const nconn = Number(connections);
    const interval = 1000 / Number(perSecond);
    const n = Math.max(1, Math.floor((Number(seconds) * 1000) / interval));
    const auth = deal(tokens, nconn);
    const cursor = new Array(nconn).fill(0);
    let failure = null;
    const note = (why) => (failure ??= why);
    const sessions = await connectAll(url, nconn, note);
    const headersFor = (k, c) => {
        const h = { ':path': paths[k % paths.length] };
        if (auth[c].length) h.authorization = auth[c][cursor[c]++ % auth[c].length];
        return h;
    };

    // the warm-up: every token once on its connection, 4 in flight per connection
    const warm = [];
    const w0 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(sessions.flatMap((s, c) => Array.from({ length: 4 }, () => new Promise((resolve) => {
        const loop = () => {
            if (cursor[c] >= auth[c].length) return resolve();
            send(s, headersFor(cursor[c], c), (status, ms, why) => {
                if (status < 200 || status > 299) note(why ?? `status ${status} in the warm-up`);
                else warm.push(ms);
                loop();
            });
        };
        loop();
    }))));
    const warmSecs = (performance.now() - w0) / 1000;
    const cpu1 = process.cpuUsage();
    cursor.fill(0);
    process.stderr.write('token-load: clock started\n');

    const lat = new Float64Array(n).fill(NaN);
    const lag = new Float64Array(n);
    let sent = 0;
    let answered = 0;
    let ok = 0;
    let last = 0;
    const t0 = performance.now();
    await new Promise((resolve) => {
        let giveUp = null;
        const finish = () => {
            if (sent < n || answered < n) return;
            clearTimeout(giveUp);
            resolve();
        };
        const tick = () => {
            const now = performance.now();
            while (sent < n && t0 + sent * interval <= now) {
                const k = sent++;
                const c = k % nconn;
                lag[k] = now - (t0 + k * interval);
                send(sessions[c], headersFor(k, c), (status, ms, why) => {
                    answered += 1;
                    if (status >= 200 && status <= 299) ok += 1;
                    else note(why ?? `status ${status} for ${paths[k % paths.length]}`);
                    if (status) {
                        lat[k] = ms;
                        last = performance.now();
                    }
                    finish();
                });
            }
            if (sent < n) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
            else giveUp = setTimeout(resolve, 30000); // what is unanswered 30 s after the last send counts as failed
        };
        tick();
    });
    const cpu2 = process.cpuUsage();
    for (const s of sessions) s.destroy();
    const cpuSecs = (a, b) => ((b.user - a.user + b.system - a.system) / 1e6).toFixed(1);
    const got = lat.filter((v) => !Number.isNaN(v)).sort();
    const warmSorted = Float64Array.from(warm).sort();
    const lagSorted = lag.slice(0, sent).sort();
    const secs = ((last || performance.now()) - t0) / 1000;
    const fig = {
        sent, ok, bad: got.length - ok, errors: sent - got.length, secs: secs.toFixed(2), rate: (got.length / secs).toFixed(1),
        p50: ms2(rank(got, 50)), p90: ms2(rank(got, 90)), p99: ms2(rank(got, 99)), max: ms2(rank(got, 100)),
        lag_p99: ms2(rank(lagSorted, 99)), lag_max: ms2(rank(lagSorted, 100)),
        warm_n: warm.length, warm_s: warmSecs.toFixed(1), warm_p50: ms2(rank(warmSorted, 50)),
        warm_p99: ms2(rank(warmSorted, 99)), warm_max: ms2(rank(warmSorted, 100)),
        cpu_s: cpuSecs(cpu1, cpu2), warm_cpu_s: cpuSecs(cpu0, cpu1),
    };
    if (failure !== null) process.stderr.write(`token-load: first failure: ${failure}\n`);
    process.stdout.write(`${Object.entries(fig).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'mint' && args.length === 7) mint(args);
else if (mode === 'load' && args.length === 6) await load(args);
else if (mode === 'rate' && args.length === 6) await rate(args);
else {
    process.stderr.write('usage: token-load.mjs mint KEYS_DIR KID ISSUER CLIENT_ID SCOPE CONSENTS_FILE OUT_FILE\n'
        + '       token-load.mjs load URL PATHS_FILE TOKENS_FILE|- CONNECTIONS STREAMS SECONDS\n'
        + '       token-load.mjs rate URL PATHS_FILE TOKENS_FILE|- CONNECTIONS RATE SECONDS\n');
    process.exit(2);
}
