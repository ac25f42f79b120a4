// eds-service.mjs — a small fake Energi Data Service on loopback for the tests of `klimaspejl fetch eds` (issue 18):
// GET /dataset/CO2Emis and /dataset/CO2EmisProg serve the fixture files' records as the real API does ({total, limit,
// dataset, records}), filtered by `start`/`end` (Copenhagen local dates or times, end excluded, matched on Minutes5DK),
// newest first, paged by `offset` and `limit` (default 100, as the API guide says). The first request of each dataset
// gets 429 with Retry-After: 1 (the rate limit). GET /_log lists the requests served. Node 18 compatible.
//
//   node tests/fake/eds-service.mjs PORT_FILE FIXTURE...   (a fixture's dataset: its "dataset", else its file name)
// Listens on 127.0.0.1 with a free port, which it writes to PORT_FILE; stops on SIGTERM.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [portFile, ...files] = process.argv.slice(2);
const data = { CO2Emis: [], CO2EmisProg: [] };
for (const f of files) {
    const doc = JSON.parse(fs.readFileSync(f, 'utf8'));
    const name = doc.dataset ?? (path.basename(f).startsWith('CO2EmisProg') ? 'CO2EmisProg' : 'CO2Emis');
    data[name].push(...doc.records);
}
for (const k of Object.keys(data)) {
    data[k].sort((a, b) => (a.Minutes5UTC < b.Minutes5UTC ? 1 : a.Minutes5UTC > b.Minutes5UTC ? -1 : a.PriceArea < b.PriceArea ? -1 : 1));
}
const log = [];
const limited = new Set();

const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/_log') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(log));
        return;
    }
    const m = /^\/dataset\/(CO2Emis|CO2EmisProg)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"not found"}');
        return;
    }
    const name = m[1];
    if (!limited.has(name)) {
        limited.add(name);
        log.push({ dataset: name, status: 429, query: url.search });
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end('{"error":"Too many requests"}');
        return;
    }
    const pad = (s) => (s.length === 10 ? `${s}T00:00` : s);
    const start = url.searchParams.get('start'), end = url.searchParams.get('end');
    const offset = Number(url.searchParams.get('offset') ?? 0), limit = Number(url.searchParams.get('limit') ?? 100);
    const rows = data[name].filter((r) => (!start || r.Minutes5DK >= pad(start)) && (!end || r.Minutes5DK < pad(end)));
    log.push({ dataset: name, status: 200, query: url.search, offset, limit, total: rows.length });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ total: rows.length, filters: '{}', limit, dataset: name, records: rows.slice(offset, offset + limit) }));
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
