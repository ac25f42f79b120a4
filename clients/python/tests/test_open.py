"""Open data against the real server and the real seeded database: the catalog, an aggregation equal to the same
SQL on the api view, cursor paging without duplicates or gaps, CSV for pandas, and problem errors."""

import csv
import io
import os
import tempfile
import unittest

import fixture
from klimaspejl import Client, KlimaspejlError, to_csv


def setUpModule():
    global client
    client = Client(fixture.server().url)


def tearDownModule():
    client.close()


class Catalog(unittest.TestCase):
    def test_datasets_list_equals_catalog_table(self):
        ids = sorted(d["id"] for d in client.datasets())
        expected = fixture.psql("SELECT string_agg(id, ',' ORDER BY id) FROM meta.datasets").split(",")
        self.assertEqual(ids, expected)
        one = client.dataset("energy-district-daily")
        self.assertEqual(one["id"], "energy-district-daily")
        self.assertIn("day", [f["name"] for f in one["schema"]["fields"]])


class Records(unittest.TestCase):
    def test_grouped_filtered_query_equals_sql_on_the_view(self):
        # four months of whatever the seeded data covers, from its fourth day
        lo, hi = fixture.psql("SELECT min(day) + 3, (min(day) + 3 + interval '4 months')::date "
                              "FROM api.energy_district_daily").split("|")
        page = client.records("energy-district-daily",
                              filters={"district": ["in:Nørrebro,Valby"], "day": [f"gte:{lo}", ("lt", hi)]},
                              group_by=["district", "day"], bucket="month", tz="Europe/Copenhagen",
                              measures=["sum:electricity_kwh", "max:heat_kwh", "count"], order="district,-day",
                              limit=1000)
        got = [(r["district"], r["day"], r["sum_electricity_kwh"], r["max_heat_kwh"], r["count"]) for r in page["data"]]
        sql = fixture.psql(f"""
            SELECT district, date_trunc('month', day)::date, sum(electricity_kwh), max(heat_kwh), count(*)
            FROM api.energy_district_daily
            WHERE district IN ('Nørrebro', 'Valby') AND day >= '{lo}' AND day < '{hi}'
            GROUP BY 1, 2 ORDER BY 1, 2 DESC""")
        want = []
        for line in sql.splitlines():
            d, day, s, m, n = line.split("|")
            want.append((d, day, float(s) if s else None, float(m) if m else None, int(n)))
        self.assertGreater(len(want), 1)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(g[:2], w[:2])
            self.assertAlmostEqual(g[2], w[2], places=6)
            self.assertAlmostEqual(g[3], w[3], places=6)
            self.assertEqual(g[4], w[4])
        self.assertIsNone(page["next_cursor"])

    def test_iter_records_yields_each_row_exactly_once_across_pages(self):
        pages = []
        orig = client.records

        def spy(*a, **kw):
            p = orig(*a, **kw)
            pages.append(len(p["data"]))
            return p

        client.records = spy
        try:
            first = fixture.psql("SELECT min(day) + 20 FROM api.energy_district_daily")
            rows = list(client.iter_records("energy-district-daily", filters={"day": f"lt:{first}"}, limit=37))
        finally:
            del client.records
        keys = [(r["district_id"], r["day"]) for r in rows]
        self.assertEqual(len(keys), len(set(keys)), "a row came twice")
        want = set()
        for line in fixture.psql(f"SELECT district_id, day FROM api.energy_district_daily WHERE day < '{first}'").splitlines():
            d, day = line.split("|")
            want.add((int(d), day))
        self.assertEqual(set(keys), want)
        self.assertGreater(len(pages), 5)
        self.assertTrue(all(n == 37 for n in pages[:-1]), pages)
        self.assertEqual(keys, sorted(keys, key=lambda k: (k[1], k[0])), "rows follow the default order")

    def test_to_csv_is_readable_by_dictreader_with_the_right_row_count(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "waste.csv")
            n = to_csv(client.iter_records("waste-district-monthly", limit=500), path)
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            with open(path, "rb") as f:
                raw = f.read()
        count = int(fixture.psql("SELECT count(*) FROM api.waste_district_monthly"))
        self.assertEqual(n, count)
        self.assertEqual(len(rows), count)
        fields = [f["name"] for f in client.dataset("waste-district-monthly")["schema"]["fields"]]
        self.assertEqual(list(rows[0].keys()), fields)
        self.assertTrue(raw.endswith(b"\r\n") and b"\r\n" in raw.split(b"\n", 1)[0] + b"\n", "RFC 4180 CRLF lines")
        first = client.records("waste-district-monthly", limit=1)["data"][0]
        self.assertEqual(rows[0]["district"], first["district"])
        self.assertEqual(rows[0]["suppressed"], "true" if first["suppressed"] else "false")

    def test_to_csv_quotes_and_nulls(self):
        buf = io.StringIO(newline="")
        to_csv([{"a": 'say "hi", then\nleave', "b": None, "c": 1.5, "d": True}], buf)
        self.assertEqual(buf.getvalue(), 'a,b,c,d\r\n"say ""hi"", then\nleave",,1.5,true\r\n')
        back = list(csv.DictReader(io.StringIO(buf.getvalue(), newline="")))
        self.assertEqual(back, [{"a": 'say "hi", then\nleave', "b": "", "c": "1.5", "d": "true"}])


class Problems(unittest.TestCase):
    def test_unknown_column_names_the_parameter(self):
        with self.assertRaises(KlimaspejlError) as cm:
            client.records("energy-district-daily", filters={"no_such_column": "eq:1"})
        e = cm.exception
        self.assertEqual(e.status, 400)
        self.assertEqual(e.parameter, "no_such_column")
        self.assertTrue(e.type.endswith("#invalid-parameter"), e.type)
        self.assertEqual(e.title, "Invalid parameter")
        self.assertIn("no_such_column", e.detail)
        self.assertIn("no_such_column", str(e))

    def test_bad_measure_and_unknown_dataset(self):
        with self.assertRaises(KlimaspejlError) as cm:
            client.records("energy-district-daily", group_by="district", measures="median:heat_kwh")
        self.assertEqual((cm.exception.status, cm.exception.parameter), (400, "measures"))
        with self.assertRaises(KlimaspejlError) as cm:
            client.dataset("no-such-dataset")
        self.assertEqual(cm.exception.status, 404)
        self.assertTrue(cm.exception.type.endswith("#not-found"))
        with self.assertRaises(KlimaspejlError) as cm:
            client.download("energy-district-daily", os.path.join(tempfile.gettempdir(), "never.csv"),
                            filters={"day": "gte:not-a-date"})
        self.assertEqual((cm.exception.status, cm.exception.parameter), (400, "day"))
        self.assertFalse(os.path.exists(os.path.join(tempfile.gettempdir(), "never.csv.part")))


class CommandLine(unittest.TestCase):
    def run_cli(self, *args):
        import subprocess
        import sys

        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        return subprocess.run([sys.executable, "-m", "klimaspejl", "--url", fixture.server().url, *args],
                              capture_output=True, text=True, env=env, timeout=120)

    def test_datasets_records_download(self):
        r = self.run_cli("datasets")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("energy-district-daily", r.stdout)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r.csv")
            r = self.run_cli("records", "energy-district-daily", "-f", "district=eq:Valby", "--all", "--limit", "100",
                             "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, newline="", encoding="utf-8") as f:
                n = len(list(csv.DictReader(f)))
            self.assertEqual(n, int(fixture.psql("SELECT count(*) FROM api.energy_district_daily WHERE district = 'Valby'")))
            path = os.path.join(d, "w.csv")
            r = self.run_cli("download", "waste-district-monthly", path, "-f", "fraction=eq:glass")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.count("\r"), 0, "no progress line when stderr is not a terminal")
            with open(path, newline="", encoding="utf-8") as f:
                n = len(list(csv.DictReader(f)))
            self.assertEqual(n, int(fixture.psql("SELECT count(*) FROM api.waste_district_monthly WHERE fraction = 'glass'")))
        r = self.run_cli("records", "energy-district-daily", "-f", "nope=eq:1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("(parameter: nope)", r.stderr)
