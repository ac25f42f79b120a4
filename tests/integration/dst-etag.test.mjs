// dst-etag.test.mjs — a promise of the open-data API that needs a full year: daily buckets in Europe/Copenhagen hold
// 23 and 25 hours on the last Sundays of March and October (in the published daily dataset and when the hourly dataset
// is bucketed by day with tz). That a release changes a records ETag within 1 s: release.test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, psql, request, startServer } from './harness.mjs';

describe('DST buckets', () => {
    let srv;
    before(async () => {
        srv = await startServer();
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
    });

    test('daily buckets on DST days have 23 and 25 hours', async () => {
        // the DST Sundays strictly inside the data (the first and last day may be partial)
        const days = psql(DB_ADMIN_URL, `
            SELECT d::date FROM generate_series((SELECT min(hour_utc) FROM core.energy_hourly)::date + 1,
                                                (SELECT max(hour_utc) FROM core.energy_hourly)::date - 1, interval '1 day') d
            WHERE extract(month FROM d) IN (3, 10) AND extract(dow FROM d) = 0 AND extract(day FROM d) > 24`)
            .trim().split('\n').filter(Boolean);
        assert.ok(days.length >= 2, `the test city covers both DST changes (found ${days.join(', ') || 'none'})`);
        for (const day of days) {
            const want = day.slice(5, 7) === '03' ? 23 : 25;
            const r = await request(srv.port, { path: `/v1/datasets/energy-district-daily/records?day=eq:${day}&district_id=eq:1` });
            assert.equal(r.status, 200, r.body);
            assert.equal(JSON.parse(r.body).data[0].hours, want, `energy-district-daily hours on ${day}`);
            const next = new Date(Date.parse(`${day}T12:00:00Z`) + 86400000).toISOString().slice(0, 10);
            // local midnight is +01:00 in winter and +02:00 in summer: March's day starts in winter time and ends in
            // summer time, October's the other way round
            const [startOff, endOff] = want === 23 ? ['%2B01:00', '%2B02:00'] : ['%2B02:00', '%2B01:00'];
            const b = await request(srv.port, {
                path: `/v1/datasets/energy-district-hourly/records?district_id=eq:1&hour_utc=gte:${day}T00:00:00${startOff}&hour_utc=lt:${next}T00:00:00${endOff}`
                    + '&group_by=hour_utc&bucket=day&tz=Europe/Copenhagen&measures=count',
            });
            assert.equal(b.status, 200, b.body);
            const rows = JSON.parse(b.body).data;
            const hoursOfDay = rows.reduce((n, x) => n + x.count, 0);
            assert.equal(hoursOfDay, want, `hourly bucketed by local day on ${day}: ${b.body}`);
        }
    });
});
