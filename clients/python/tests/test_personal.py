"""Personal routes with a consent token minted by `klimaspejl token` (after `klimaspejl client add`) for a real
household: the summary's figures equal SQL on core, energy() sums equal SQL, and token errors are problems."""

import unittest

import fixture
from klimaspejl import Client, KlimaspejlError


def setUpModule():
    global srv, household, month, token
    srv = fixture.server()
    keys = {"KLIMA_KEYS_DIR": srv.keys}
    r = fixture.cli(["client", "add", "--name", "Python client test", "--redirect-uri", "http://127.0.0.1:9/cb"], keys)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    client_id = r.stdout.split("client_id", 1)[1].split()[0]
    household = fixture.psql("SELECT household_id FROM core.households ORDER BY household_id LIMIT 1")
    month = fixture.psql("SELECT to_char(date_trunc('month', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') "
                         "- interval '1 month', 'YYYY-MM') FROM core.energy_hourly")
    r = fixture.cli(["token", "--household", household, "--scope", "summary:read energy:read", "--client", client_id],
                    keys)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    token = r.stdout.strip().splitlines()[-1].strip()


MONTH_RANGE = """hour_utc >= ('{m}-01'::date::timestamp AT TIME ZONE 'Europe/Copenhagen')
             AND hour_utc < (('{m}-01'::date + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')"""


class Personal(unittest.TestCase):
    def test_summary_with_a_minted_token_equals_sql(self):
        with Client(srv.url, token=token) as c:
            s = c.summary(month=month, lang="en")
            da = c.summary(month=month, lang="da")
        kwh, heat, hours = fixture.psql(f"""
            SELECT round(sum(electricity_wh) / 1000.0, 3), round(sum(heat_wh) / 1000.0, 3), count(*)
            FROM core.energy_hourly WHERE household_id = '{household}' AND {MONTH_RANGE.format(m=month)}""").split("|")
        self.assertEqual(s["month"], month)
        self.assertAlmostEqual(s["categories"]["electricity"]["kwh"], float(kwh), places=6)
        self.assertAlmostEqual(s["categories"]["district_heating"]["kwh"], float(heat), places=6)
        self.assertEqual(s["period"]["hours_with_data"], int(hours))
        self.assertEqual((s["lang"], da["lang"]), ("en", "da"))
        self.assertNotEqual(s["peers"]["rating_text"], da["peers"]["rating_text"])

    def test_energy_series_equals_sql(self):
        # a week ending a few days before the household's newest reading
        first, last = fixture.psql(f"""
            SELECT (max(hour_utc) AT TIME ZONE 'Europe/Copenhagen')::date - 10,
                   (max(hour_utc) AT TIME ZONE 'Europe/Copenhagen')::date - 3
            FROM core.energy_hourly WHERE household_id = '{household}'""").split("|")
        with Client(srv.url, token=token) as c:
            e = c.energy(first, last, resolution="day", tz="Europe/Copenhagen")
        self.assertEqual(len(e["rows"]), 7)
        wh = fixture.psql(f"""
            SELECT sum(electricity_wh) FROM core.energy_hourly WHERE household_id = '{household}'
              AND hour_utc >= ('{first}'::date::timestamp AT TIME ZONE 'Europe/Copenhagen')
              AND hour_utc < ('{last}'::date::timestamp AT TIME ZONE 'Europe/Copenhagen')""")
        self.assertEqual(sum(r["electricity_wh"] for r in e["rows"]), float(wh))

    def test_token_errors_are_problems(self):
        with Client(srv.url, token=token) as c, self.assertRaises(KlimaspejlError) as cm:
            c.waste(f"{month}-01", f"{month}-08")  # the token has no waste:read
        self.assertEqual(cm.exception.status, 403)
        self.assertTrue(cm.exception.type.endswith("#insufficient-scope"), cm.exception.type)
        with Client(srv.url, token=token[:-4] + "AAAA") as c, self.assertRaises(KlimaspejlError) as cm:
            c.summary(month=month)
        self.assertEqual(cm.exception.status, 401)
        self.assertTrue(cm.exception.type.endswith("#invalid-token"), cm.exception.type)
        with Client(srv.url) as c, self.assertRaises(ValueError):
            c.summary(month=month)
        with Client(srv.url, token=token) as c, self.assertRaises(KlimaspejlError) as cm:
            c.energy(f"{month}-01", f"{month}-08", resolution="fortnight")
        self.assertEqual((cm.exception.status, cm.exception.parameter), (400, "resolution"))
