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

async function load([url, pathsFile, tokensFile, connections, streams, seconds]) {
    const paths = fs.readFileSync(pathsFile, 'utf8').split('\n').filter(Boolean);
    const tokens = tokensFile === '-' ? [] : fs.readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
    const nconn = Number(connections);
    const nstreams = Number(streams);
    const ms = Number(seconds) * 1000;
    // each connection's own tokens, as ready-made header values
    const auth = Array.from({ length: nconn }, (_, c) => tokens.filter((_t, i) => i % nconn === c).map((t) => `Bearer ${t}`));
    const cursor = new Array(nconn).fill(0);
    let next = 0;
    let done = 0;
    let failure = null;
    let stop = false;
    const sessions = [];
    for (let c = 0; c < nconn; ++c) {
        const s = http2.connect(url);
        s.on('error', (e) => (failure ??= `connection error: ${e.message}`));
        sessions.push(s);
    }
    await Promise.all(sessions.map((s) => new Promise((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
    })));
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

const [mode, ...args] = process.argv.slice(2);
if (mode === 'mint' && args.length === 7) mint(args);
else if (mode === 'load' && args.length === 6) await load(args);
else {
    process.stderr.write('usage: token-load.mjs mint KEYS_DIR KID ISSUER CLIENT_ID SCOPE CONSENTS_FILE OUT_FILE\n'
        + '       token-load.mjs load URL PATHS_FILE TOKENS_FILE|- CONNECTIONS STREAMS SECONDS\n');
    process.exit(2);
}
