// benchmarks/idle-h2.mjs — row B7 of benchmarks/run: opens N idle HTTP/2 (h2c) sessions to a server and holds them.
// Each session makes one GET /healthz (so the connection is fully set up, SETTINGS exchanged) and then stays idle,
// except for one more GET every 5-8 s so the server's idle timeout (h2o: 10 s) does not close it.
// Prints "open N" on stdout once every session has answered, then holds until SIGTERM/SIGINT.
// Usage: node idle-h2.mjs http://127.0.0.1:PORT N
import http2 from 'node:http2';

const [url, countArg] = process.argv.slice(2);
const total = Number.parseInt(countArg ?? '10000', 10);
const sessions = [];
let ready = 0;
let failed = 0;

function ping(session) {
    return new Promise((resolve) => {
        const req = session.request({ ':path': '/healthz' });
        req.on('response', () => {});
        req.on('data', () => {});
        req.on('end', () => resolve(true));
        req.on('error', () => resolve(false));
        req.end();
    });
}

async function open(i) {
    const session = http2.connect(url);
    session.on('error', () => {});
    session.on('close', () => {
        sessions[i] = null;
    });
    sessions[i] = session;
    if (await ping(session)) ready++;
    else failed++;
    const keep = setInterval(() => {
        if (sessions[i] == null) clearInterval(keep);
        else ping(session);
    }, 5000 + Math.floor(Math.random() * 3000));
}

// open in batches so the server's listen backlog is not overrun
const batch = 500;
for (let i = 0; i < total; i += batch) {
    const n = Math.min(batch, total - i);
    const before = ready + failed;
    for (let j = 0; j < n; j++) open(i + j);
    while (ready + failed < before + n) await new Promise((r) => setTimeout(r, 5));
}
process.stdout.write(`open ${ready} failed ${failed}\n`);
const stop = () => {
    for (const s of sessions) if (s) s.destroy();
    process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
