"""429/503 with Retry-After against a local scripted HTTP server: the client waits as told and retries, a bounded
number of times, and never waits longer than it was configured to."""

import os
import tempfile
import time
import unittest

from netutil import ScriptedServer
from klimaspejl import Client, KlimaspejlError

CATALOG = (200, {"Content-Type": "application/json"}, {"datasets": [{"id": "x"}], "count": 1})


def problem(status, retry_after):
    slug = "too-many-requests" if status == 429 else "busy"
    body = {"type": f"/docs/problems#{slug}", "title": "Too many requests" if status == 429 else "Server busy",
            "status": status, "detail": "slow down"}
    return (status, {"Content-Type": "application/problem+json", "Retry-After": retry_after}, body)


class Retry(unittest.TestCase):
    def test_429_then_200_waits_retry_after(self):
        s = ScriptedServer([problem(429, "1"), CATALOG])
        try:
            t0 = time.monotonic()
            with Client(s.url) as c:
                self.assertEqual(c.datasets(), [{"id": "x"}])
            self.assertEqual(len(s.requests), 2)
            gap = s.requests[1][1] - s.requests[0][1]
            self.assertGreaterEqual(gap, 0.95, "the retry came before Retry-After")
            self.assertLess(time.monotonic() - t0, 5)
        finally:
            s.close()

    def test_retries_are_bounded(self):
        s = ScriptedServer([problem(429, "0")])
        try:
            with Client(s.url, max_retries=2) as c, self.assertRaises(KlimaspejlError) as cm:
                c.datasets()
            self.assertEqual(len(s.requests), 3)
            self.assertEqual(cm.exception.status, 429)
            self.assertEqual(cm.exception.retry_after, 0)
            self.assertTrue(cm.exception.type.endswith("#too-many-requests"))
        finally:
            s.close()

    def test_a_wait_beyond_the_limit_is_not_slept(self):
        s = ScriptedServer([problem(503, "3600"), CATALOG])
        try:
            t0 = time.monotonic()
            with Client(s.url, max_retry_wait=10) as c, self.assertRaises(KlimaspejlError) as cm:
                c.datasets()
            self.assertLess(time.monotonic() - t0, 2)
            self.assertEqual((cm.exception.status, cm.exception.retry_after), (503, 3600))
            self.assertEqual(len(s.requests), 1)
        finally:
            s.close()

    def test_busy_download_is_retried(self):
        meta = (200, {"Content-Type": "application/json"},
                {"id": "x", "default_order": ["k"], "primary_key": ["k"],
                 "schema": {"fields": [{"name": "k", "x-klimaspejl": {"operators": ["eq", "gt"]}}]}})
        csv_body = (200, {"Content-Type": "text/csv", "ETag": '"1-ab"', "X-Dataset-Version": "1"}, b"k\n1\n2\n")
        s = ScriptedServer([meta, problem(503, "1"), csv_body])
        try:
            with tempfile.TemporaryDirectory() as d, Client(s.url) as c:
                res = c.download("x", os.path.join(d, "x.csv"), progress=False)
                with open(res.path, "rb") as f:
                    self.assertEqual(f.read(), b"k\n1\n2\n")
            self.assertEqual([p.split("?")[0] for p, _ in s.requests],
                             ["/v1/datasets/x", "/v1/datasets/x/download", "/v1/datasets/x/download"])
            self.assertGreaterEqual(s.requests[2][1] - s.requests[1][1], 0.95)
        finally:
            s.close()

    def test_non_problem_error_body(self):
        s = ScriptedServer([(502, {"Content-Type": "text/html"}, b"<h1>Bad gateway</h1>")])
        try:
            with Client(s.url) as c, self.assertRaises(KlimaspejlError) as cm:
                c.datasets()
            self.assertEqual((cm.exception.status, cm.exception.type), (502, None))
            self.assertIn("Bad gateway", cm.exception.body)
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()
