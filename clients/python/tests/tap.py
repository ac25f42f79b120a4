"""Runs the tests and prints TAP (`ok N - name` / `not ok N - name`, then the plan) to stdout; details of failures
go to stderr and, as TAP comments, to stdout. The last test point is the server's clean exit (SIGTERM -> exit 0, no
sanitizer report). Exit status 0 when everything passed."""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fixture  # noqa: E402


class TapResult(unittest.TestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.n = 0
        self.failed = 0

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()

    def _point(self, test, ok, note=""):
        self.n += 1
        if hasattr(self, "t0"):
            sys.stderr.write(f"# {time.monotonic() - self.t0:6.2f} s  {test.id()}\n")
        name = test.id().split(".", 1)[-1] if isinstance(test, unittest.TestCase) else str(test)
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}{note}", flush=True)
        if not ok:
            self.failed += 1

    def _diag(self, test, err):
        text = self._exc_info_to_string(err, test) if isinstance(err, tuple) else str(err)
        sys.stderr.write(text + "\n")
        for line in text.splitlines()[-15:]:
            print(f"# {line}")

    def addSuccess(self, test):
        super().addSuccess(test)
        self._point(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._point(test, False)
        self._diag(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._point(test, False)
        self._diag(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._point(test, True, f" # SKIP {reason}")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._point(test, True, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._point(test, False)


def main(argv):
    loader = unittest.TestLoader()
    if argv:
        suite = loader.loadTestsFromNames(argv)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = TapResult()
    suite.run(result)
    srv = fixture.started()
    if srv is not None:
        problem = srv.clean_exit_problem()
        result.n += 1
        print(f"{'ok' if problem is None else 'not ok'} {result.n} - server stopped cleanly (SIGTERM, exit 0, no sanitizer report)")
        if problem:
            result.failed += 1
            print("# " + problem.replace("\n", "\n# "))
    print(f"1..{result.n}")
    print(f"# {result.n - result.failed} passed, {result.failed} failed", file=sys.stderr)
    return 0 if result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
