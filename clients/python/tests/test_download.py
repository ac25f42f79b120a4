"""Downloads against the real server: a full CSV whose data rows equal count(*) on the view, interrupted downloads
(a local proxy cuts the connection after N bytes) that resume and end byte-identical to uninterrupted ones, a changed
ETag that restarts from scratch, the re-read fallback, and the progress line only on a terminal unless forced."""

import csv
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

import fixture
from netutil import CutProxy
from klimaspejl import Client, DownloadInterrupted
from klimaspejl.progress import Progress

HOURLY = "energy-district-hourly"


def setUpModule():
    global srv, client, tmp, ref_path
    srv = fixture.server()
    client = Client(srv.url)
    tmp = tempfile.mkdtemp(prefix="klima-pyclient-dl-")
    ref_path = os.path.join(tmp, "reference.csv")


def tearDownModule():
    client.close()
    shutil.rmtree(tmp, ignore_errors=True)


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def reference():
    """The whole hourly dataset downloaded without interruption (once)."""
    if not os.path.exists(ref_path):
        client.download(HOURLY, ref_path, progress=False)
    return ref_path


_wire_sizes = {}


def wire_size(dataset, compress, **kw):
    """The bytes a whole download of this query takes on the wire (headers and body), through a counting proxy."""
    key = repr((dataset, compress, sorted(kw.items())))
    if key not in _wire_sizes:
        _wire_sizes[key] = _measure(dataset, compress, **kw)
    return _wire_sizes[key]


def _measure(dataset, compress, **kw):
    proxy = CutProxy(srv.port, 1 << 62)
    try:
        with tempfile.TemporaryDirectory() as d, Client(proxy.url, compress=compress) as c:
            c.download(dataset, os.path.join(d, "x"), progress=False, **kw)
    finally:
        proxy.close()
    return proxy.download_sent


class Download(unittest.TestCase):
    def interrupt(self, path, fraction, **kw):
        """Downloads through a proxy that cuts the download's connection after this fraction of its wire size;
        returns the size of the partial file."""
        dataset = kw.pop("dataset", HOURLY)
        compress = kw.pop("compress", True)
        cut_after = int(wire_size(dataset, compress, **kw) * fraction)
        proxy = CutProxy(srv.port, cut_after)
        try:
            with Client(proxy.url, compress=compress) as c:
                with self.assertRaises(DownloadInterrupted) as cm:
                    c.download(dataset, path, progress=False, **kw)
        finally:
            proxy.close()
        self.assertEqual(proxy.cuts, 1)
        self.assertFalse(os.path.exists(path))
        part = path + ".part"
        size = os.path.getsize(part)
        self.assertEqual(cm.exception.bytes_written, size)
        self.assertGreater(size, 200, "the proxy let some rows through")
        with open(part, "rb") as f:
            f.seek(size - 1)
            self.assertEqual(f.read(), b"\n", "only whole rows are written")
        return size

    def test_full_csv_download_row_count_equals_count_on_the_view(self):
        path = reference()
        with open(path, newline="", encoding="utf-8") as f:
            r = csv.reader(f)
            header = next(r)
            n = sum(1 for _ in r)
        self.assertEqual(n, int(fixture.psql("SELECT count(*) FROM api.energy_district_hourly")))
        self.assertEqual(header, [f["name"] for f in client.dataset(HOURLY)["schema"]["fields"]])
        self.assertFalse(os.path.exists(path + ".part") or os.path.exists(path + ".part.json"))

    def test_interrupted_download_resumes_byte_identical(self):
        ref = reference()
        path = os.path.join(tmp, "resumed.csv")
        had = self.interrupt(path, 0.45)
        res = client.download(HOURLY, path, progress=False)
        self.assertEqual(res.method, "keyset")
        self.assertEqual(res.resumed_from, had)
        self.assertEqual(res.bytes, os.path.getsize(ref))
        # only the missing rows (plus one header line per continuation) crossed the network
        self.assertLess(res.transferred, os.path.getsize(ref) - had + 4096)
        self.assertEqual(digest(path), digest(ref))
        self.assertFalse(os.path.exists(path + ".part") or os.path.exists(path + ".part.json"))

    def test_filtered_descending_ndjson_download_resumes_byte_identical(self):
        since = fixture.psql("SELECT to_char(max(hour_utc) - interval '60 days', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                             "FROM api.energy_district_hourly")
        kw = dict(format="ndjson", order="-hour_utc", district_id="in:1,2,3", hour_utc=f"gte:{since}")
        ref = os.path.join(tmp, "ref.ndjson")
        client.download(HOURLY, ref, progress=False, **kw)
        path = os.path.join(tmp, "resumed.ndjson")
        had = self.interrupt(path, 0.4, **kw)
        res = client.download(HOURLY, path, progress=False, **kw)
        self.assertEqual((res.method, res.resumed_from), ("keyset", had))
        self.assertEqual(digest(path), digest(ref))
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        want = int(fixture.psql("SELECT count(*) FROM api.energy_district_hourly WHERE district_id IN (1, 2, 3) "
                                f"AND hour_utc >= '{since}'"))
        self.assertEqual(len(rows), want)
        self.assertEqual([r["hour_utc"] for r in rows], sorted((r["hour_utc"] for r in rows), reverse=True))

    def test_key_column_without_gt_resumes_through_its_group(self):
        # waste-district-monthly is ordered by month, district_id, fraction; fraction takes only eq/ne/in, so the
        # client fetches the rest of the last (month, district_id) group and skips what it already has
        ds = "waste-district-monthly"
        ref = os.path.join(tmp, "ref-waste.csv")
        client.download(ds, ref, progress=False)
        path = os.path.join(tmp, "waste.csv")
        had = self.interrupt(path, 0.35, dataset=ds, compress=False)  # small: gzip would hold it all to the end
        res = client.download(ds, path, progress=False)
        self.assertEqual((res.method, res.resumed_from, res.requests), ("keyset", had, 3))
        self.assertLess(res.transferred, os.path.getsize(ref) - had + 2048)
        self.assertEqual(digest(path), digest(ref))

    def test_changed_etag_restarts_from_scratch(self):
        ref = reference()
        path = os.path.join(tmp, "restarted.csv")
        self.interrupt(path, 0.3)
        with open(path + ".part.json", encoding="utf-8") as f:
            state = json.load(f)
        state["etag"] = '"0-0000000000000000"'  # as if the dataset had been refreshed since
        with open(path + ".part.json", "w", encoding="utf-8") as f:
            json.dump(state, f)
        res = client.download(HOURLY, path, progress=False)
        self.assertEqual((res.method, res.resumed_from), ("fresh", 0))
        self.assertEqual(digest(path), digest(ref))

    def test_resume_rereads_the_prefix_when_keys_cannot_be_filtered(self):
        # 15 filters + the 2 key columns would pass the server's 16-filter limit: the client re-reads and checks
        kw = {"filters": [("district_id", "gte:1")] * 15, "delimiter": ";", "bom": True}
        ref = os.path.join(tmp, "ref-semicolon.csv")
        client.download(HOURLY, ref, progress=False, **kw)
        with open(ref, "rb") as f:
            self.assertTrue(f.read(3) == b"\xef\xbb\xbf")
        path = os.path.join(tmp, "prefix.csv")
        had = self.interrupt(path, 0.5, **kw)
        res = client.download(HOURLY, path, progress=False, **kw)
        self.assertEqual((res.method, res.resumed_from), ("prefix", had))
        self.assertEqual(digest(path), digest(ref))

    def test_semicolons_get_decimal_commas_unless_decimal_is_given(self):
        comma = os.path.join(tmp, "comma.csv")
        point = os.path.join(tmp, "point.csv")
        client.download("waste-district-monthly", comma, progress=False, delimiter=";")
        client.download("waste-district-monthly", point, progress=False, delimiter=";", decimal=".")
        with open(comma, encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        with open(point, encoding="utf-8") as f:
            same = list(csv.DictReader(f, delimiter=";"))
        self.assertEqual(len(rows), len(same))
        self.assertTrue(any("," in r["kg"] for r in rows))
        for a, b in zip(rows, same):
            self.assertNotIn(".", a["kg"])
            self.assertEqual(a["kg"].replace(",", "."), b["kg"])

    def test_resume_false_starts_over(self):
        path = os.path.join(tmp, "over.csv")
        self.interrupt(path, 0.5, dataset="energy-district-daily")
        res = client.download("energy-district-daily", path, progress=False, resume=False)
        self.assertEqual((res.method, res.resumed_from), ("fresh", 0))
        with open(path, newline="", encoding="utf-8") as f:
            n = sum(1 for _ in csv.reader(f)) - 1
        self.assertEqual(n, int(fixture.psql("SELECT count(*) FROM api.energy_district_daily")))


class FakeTty(io.StringIO):
    def isatty(self):
        return True


class ProgressBar(unittest.TestCase):
    def run_download(self, stream, progress):
        path = os.path.join(tmp, "progress.csv")
        old = sys.stderr
        sys.stderr = stream
        try:
            client.download("waste-district-monthly", path, progress=progress)
        finally:
            sys.stderr = old
        return stream.getvalue()

    def test_off_when_stderr_is_not_a_terminal(self):
        self.assertEqual(self.run_download(io.StringIO(), None), "")
        self.assertEqual(self.run_download(FakeTty(), False), "")

    def test_on_when_forced_or_on_a_terminal(self):
        size = os.path.getsize(os.path.join(tmp, "progress.csv")) if os.path.exists(os.path.join(tmp, "progress.csv")) else None
        for stream, mode in ((io.StringIO(), True), (FakeTty(), None)):
            out = self.run_download(stream, mode)
            self.assertIn("progress.csv", out)
            self.assertRegex(out, r"\d+(\.\d)? [kM]?B/s")
            self.assertTrue(out.endswith("\n"))
        size = os.path.getsize(os.path.join(tmp, "progress.csv"))
        self.assertIn(f"{size / 1000:.1f} kB" if size >= 1000 else f"{size} B", out)

    def test_callback(self):
        seen = []
        client.download("waste-district-monthly", os.path.join(tmp, "cb.csv"), progress=lambda n, rate: seen.append(n))
        self.assertEqual(seen[-1], os.path.getsize(os.path.join(tmp, "cb.csv")))

    def total(self, dataset, filters=()):
        """The rows of the download, counted independently: the data lines of the CSV the server sends."""
        body = client.request("GET", f"/v1/datasets/{dataset}/download", list(filters) + [("format", "csv")]).body
        return body.decode("utf-8").count("\n") - 1

    def test_rows_of_a_known_total_and_the_time_left(self):
        want = self.total("waste-district-monthly")
        out = self.run_download(io.StringIO(), True)
        self.assertRegex(out, rf"progress\.csv  {want:,} of {want:,} rows \(100 %\)  ")
        self.assertTrue(out.rstrip("\n").split("\r")[-1].endswith("s"), out[-200:])
        # while it runs: rows of the total, bytes of the estimated size and the time left (a slow reader sees it)
        # a whole dataset: the total is the catalog's row count of the current version, no extra request
        self.assertEqual(client.dataset("waste-district-monthly")["rows"], want)
        seen = []
        with mock.patch.object(client, "get_json", wraps=client.get_json) as get_json:
            client.download("waste-district-monthly", os.path.join(tmp, "info.csv"),
                            progress=lambda n, rate, info: seen.append(dict(info, bytes=n)))
        self.assertFalse([c for c in get_json.call_args_list if "/records" in str(c.args[0])], get_json.call_args_list)
        self.assertEqual(seen[-1]["rows"], want)
        self.assertEqual(seen[-1]["total_rows"], want)
        self.assertEqual(seen[-1]["bytes"], os.path.getsize(os.path.join(tmp, "info.csv")))
        self.assertAlmostEqual(seen[-1]["total_bytes_estimate"], seen[-1]["bytes"], delta=1)
        self.assertTrue(any(s["seconds_left"] is not None for s in seen))
        bar = Progress(True, "x.csv", stream=io.StringIO(), total_rows=1000, csv=True)
        bar.update(5000, 101)  # the header and 100 rows
        line = bar.line()
        self.assertRegex(line, r"^x\.csv  100 of 1,000 rows \(10 %\)  5\.0 kB of ~50\.0 kB  .*/s  \d+( min \d+)? s left$")

    def test_a_filtered_total(self):
        filters = [("district", "eq:Valby")]
        want = self.total("energy-district-daily", filters)
        seen = []
        client.download("energy-district-daily", os.path.join(tmp, "valby.csv"), filters={"district": "eq:Valby"},
                        progress=lambda n, rate, info: seen.append(info))
        self.assertEqual((seen[-1]["rows"], seen[-1]["total_rows"]), (want, want))

    def test_unknown_total(self):
        with mock.patch("klimaspejl.download._total_rows", return_value=None):
            out = self.run_download(io.StringIO(), True)
        want = self.total("waste-district-monthly")
        self.assertRegex(out, rf"progress\.csv  {want:,} rows  \d")
        self.assertNotIn(" of ", out)
        self.assertNotIn("left", out)
