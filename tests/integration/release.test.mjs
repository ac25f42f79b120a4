// release.test.mjs — one release, seen over HTTP (DESIGN section 3 "Releases"). On a database of its own: a release
// that changes nothing keeps every version (caches, ETags, cursors stay valid); then core changes (one household's
// hour), `klimaspejl refresh` is asked for ONE dataset, and every dataset whose rows changed has a new version while
// the others keep theirs; every worker sees the release within 1 s; for a changed dataset the cached records answer the new rows under a new ETag and version,
// an old ETag never gets 304, an old cursor gets 410 and a download's old ETag gets the new file.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, createDatabase, psql, request, ROOT, runCli, sleep, startServer, waitReady } from './harness.mjs';

describe('a release publishes every changed dataset together, under new versions', () => {
    let db;
    let srv;
    let env;
    const get = (p, headers = {}) => request(srv.port, { path: p, headers });
    const versions = async () => {
        const r = await get('/v1/datasets');
        assert.equal(r.status, 200, r.body);
        return Object.fromEntries(JSON.parse(r.body).datasets.map((d) => [d.id, d.version]));
    };
    // waits (at most 2 s) until the server has heard the release's NOTIFYs
    const versionsAfter = async (old, changed) => {
        let v;
        for (const t0 = Date.now(); Date.now() - t0 < 2000; await sleep(50)) {
            v = await versions();
            if (changed.every((id) => v[id] !== old[id])) break;
        }
        return v;
    };
    const refresh = (...ids) => {
        const r = runCli(['refresh', ...ids], { env, timeout: 300_000 });
        assert.equal(r.status, 0, `klimaspejl refresh ${ids.join(' ')}: ${r.stderr}`);
        return r.stdout;
    };

    before(async () => {
        db = createDatabase('release');
        env = { KLIMA_DB_ADMIN_URL: db.adminUrl };
        for (const args of [['migrate', '--dir', path.join(ROOT, 'sql/migrations')],
            ['seed', '--households', '600', '--days', '40', '--end', '2026-01-20', '--jobs', '1']]) {
            const r = runCli(args, { env, timeout: 300_000 });
            assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
        }
        refresh();
        srv = await startServer({ dbUrl: db.apiUrl });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        if (db) db.drop();
    });

    test('a release that changes no row keeps every version, ETag and cursor', async () => {
        const v0 = await versions();
        const p = '/v1/datasets/energy-district-daily/records?limit=3';
        const a = await get(p);
        assert.equal(a.status, 200, a.body);
        const out = refresh();
        assert.match(out, /\b0 of 9 datasets changed/);
        await sleep(300);
        assert.deepEqual(await versions(), v0, 'no version moved');
        assert.equal((await get(p, { 'if-none-match': a.headers.etag })).status, 304, 'the ETag still holds');
        const next = JSON.parse(a.body).next_cursor;
        assert.equal((await get(`${p}&cursor=${next}`)).status, 200, 'the cursor still pages');
    });

    test('core changes, one dataset is refreshed: every changed dataset has a new version, caches and cursors follow', async () => {
        // one household's electricity in one hour of a whole published day: its hour, its day, its peer group's month
        // and the district's electricity footprint change; waste and mobility do not
        // (a household whose hour, day and peer group are published cells)
        const [hid, district, hour, day] = psql(db.adminUrl, `
            SELECT e.household_id, h.district_id, e.hour_utc, dd.day
            FROM core.energy_hourly e JOIN core.households h USING (household_id)
            JOIN rollup.district_hourly dh ON dh.district_id = h.district_id AND dh.hour_utc = e.hour_utc AND NOT dh.suppressed
            JOIN rollup.district_daily dd ON dd.district_id = h.district_id
                 AND dd.day = (e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AND NOT dd.suppressed
            JOIN rollup.peergroup_monthly p ON p.month = date_trunc('month', dd.day)::date AND p.district_id = h.district_id
                 AND p.dwelling_type = h.dwelling_type AND p.occupant_band = h.occupant_band AND NOT p.suppressed
            WHERE e.hour_utc = (SELECT max(hour_utc) FROM core.energy_hourly) - interval '3 days 12 hours'
            ORDER BY e.household_id LIMIT 1`).split('|');
        assert.ok(hid, 'a household with published cells');
        const v0 = await versions();
        const daily = `/v1/datasets/energy-district-daily/records?district_id=eq:${district}&day=eq:${day}`;
        const list = '/v1/datasets/energy-district-daily/records?limit=2';
        const waste = '/v1/datasets/waste-district-monthly/records?limit=2';
        const dl = '/v1/datasets/energy-district-daily/download?format=csv';
        const before = await get(daily);
        assert.equal(before.status, 200, before.body);
        assert.equal((await get(daily, { 'if-none-match': before.headers.etag })).status, 304, 'cached and fresh');
        const cursor = JSON.parse((await get(list)).body).next_cursor;
        const wasteFirst = await get(waste);
        const wasteCursor = JSON.parse(wasteFirst.body).next_cursor;
        const dlBefore = await get(dl);
        assert.equal(dlBefore.status, 200);

        psql(db.adminUrl, `UPDATE core.energy_hourly SET electricity_wh = electricity_wh + 2500
                           WHERE household_id = '${hid}' AND hour_utc = '${hour}'`);
        const out = refresh('energy-district-hourly');
        // every worker answers the new version within 1 s (NOTIFY at commit)
        const t0 = Date.now();
        let renewed = false;
        while (Date.now() - t0 < 1000 && !renewed) {
            const again = await Promise.all([1, 2, 3, 4].map(() => get(daily, { 'if-none-match': before.headers.etag })));
            renewed = again.every((x) => x.status === 200 && x.headers.etag !== before.headers.etag);
            if (!renewed) await sleep(50);
        }
        assert.ok(renewed, 'every worker answered with a new ETag within 1 s of the release');
        const changed = ['energy-district-hourly', 'energy-district-daily', 'energy-peergroup-monthly', 'footprint-district-monthly'];
        const v1 = await versionsAfter(v0, changed);
        for (const id of changed) {
            assert.equal(v1[id], v0[id] + 1, `${id}: new version (${out})`);
        }
        for (const id of ['waste-district-monthly', 'mobility-district-monthly', 'grid-intensity-hourly', 'emission-factors']) {
            assert.equal(v1[id], v0[id], `${id}: unchanged rows keep their version`);
        }

        // the cached query answers the new rows, under the new version
        const after = await get(daily);
        assert.equal(after.status, 200);
        assert.notEqual(after.headers.etag, before.headers.etag, 'new ETag');
        assert.equal(after.headers['x-dataset-version'], String(v1['energy-district-daily']));
        assert.equal(JSON.parse(after.body).version, v1['energy-district-daily']);
        assert.notDeepEqual(JSON.parse(after.body).data, JSON.parse(before.body).data, 'the changed day is served');
        const cond = await get(daily, { 'if-none-match': before.headers.etag });
        assert.equal(cond.status, 200, 'an old ETag never gets 304 for changed rows');
        assert.equal((await get(`${list}&cursor=${cursor}`)).status, 410, 'a cursor of the old version is refused');
        const dlCond = await get(dl, { 'if-none-match': dlBefore.headers.etag });
        assert.equal(dlCond.status, 200, 'the download is sent again');
        assert.notEqual(dlCond.headers.etag, dlBefore.headers.etag);
        assert.notEqual(dlCond.body, dlBefore.body);

        // an unchanged dataset keeps its cache, ETag and cursor
        assert.equal((await get(waste, { 'if-none-match': wasteFirst.headers.etag })).status, 304);
        assert.equal((await get(`${waste}&cursor=${wasteCursor}`)).status, 200);
    });
});
