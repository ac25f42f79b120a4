"""The test fixture: one real `klimaspejl serve` against the real seeded database, shared by every test module.

Environment: KLIMA_BIN (the binary), KLIMA_TEST_DB_URL (as klima_api, for the server), KLIMA_TEST_DB_ADMIN_URL (as a
superuser, for the independent SQL checks, `client add` and `token`). The server listens on a free 127.0.0.1 port,
gets its own KLIMA_KEYS_DIR made with `klimaspejl keygen`, and is ready when /healthz and then /readyz (asked several
times at once, so every worker thread answers) say 200. stop() sends SIGTERM to its PID and reports how it exited.
"""

import atexit
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package from the source tree

# The server and `klimaspejl token` must agree on the issuer whatever port the server listens on (tests/run exports
# the same value; without it the issuer would follow each process's KLIMA_LISTEN).
os.environ.setdefault("KLIMA_ISSUER", "http://klimaspejl.test")

SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:")


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set (see clients/python/tests/run.sh)")
    return value


def psql(sql, url=None):
    """Runs SQL with psql as the admin user; returns stdout (unaligned, tuples only, '|' between fields)."""
    r = subprocess.run(["psql", url or env("KLIMA_TEST_DB_ADMIN_URL"), "-AtqX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr}")
    return r.stdout.strip()


def cli(args, extra_env=None):
    """Runs `klimaspejl ARGS` with the admin database URL; returns the CompletedProcess."""
    e = dict(os.environ, KLIMA_DB_ADMIN_URL=env("KLIMA_TEST_DB_ADMIN_URL"), KLIMA_DB_URL=env("KLIMA_TEST_DB_ADMIN_URL"))
    e.update(extra_env or {})
    return subprocess.run([env("KLIMA_BIN")] + list(args), capture_output=True, text=True, env=e, timeout=60)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


class Server:
    def __init__(self):
        self.keys = tempfile.mkdtemp(prefix="klima-pyclient-keys-")
        self.log_path = os.path.join(self.keys, "server.log")
        r = cli(["keygen"], {"KLIMA_KEYS_DIR": self.keys})
        if r.returncode != 0:
            raise RuntimeError(f"klimaspejl keygen failed: {r.stderr}")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [env("KLIMA_BIN"), "serve"],
            env=dict(os.environ, KLIMA_LISTEN=f"127.0.0.1:{self.port}", KLIMA_DB_URL=env("KLIMA_TEST_DB_URL"),
                     KLIMA_THREADS="2", KLIMA_LOG_LEVEL="warn", KLIMA_KEYS_DIR=self.keys),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.result = None
        deadline = time.monotonic() + 30
        while _status(self.url + "/healthz") != 200:
            if self.proc.poll() is not None:
                raise RuntimeError(f"klimaspejl serve exited early ({self.proc.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"klimaspejl serve did not answer /healthz within 30 s:\n{self.output()}")
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            while time.monotonic() < deadline:
                if all(s == 200 for s in pool.map(_status, [self.url + "/readyz"] * 4)):
                    break
                time.sleep(0.1)

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=15):
        """SIGTERM to the server's PID (SIGKILL after timeout); returns (exit code, output)."""
        if self.result is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            time.sleep(0.05)
            self.log.close()
            with open(self.log_path, "rb") as f:
                out = f.read().decode("utf-8", "replace")
            self.result = (self.proc.returncode, out)
            shutil.rmtree(self.keys, ignore_errors=True)
        return self.result

    def clean_exit_problem(self):
        """None when the server exited by itself with 0 and no sanitizer report, else what went wrong."""
        code, out = self.stop()
        if code != 0:
            return f"server exit code {code}; output tail:\n{out[-3000:]}"
        m = SANITIZER_REPORT.search(out)
        if m:
            return f"sanitizer report in server output:\n{out[max(0, m.start() - 200):m.start() + 3000]}"
        return None


_server = None


def server():
    """The shared server, started on first use."""
    global _server
    if _server is None:
        _server = Server()
        atexit.register(_server.stop)
    return _server


def started():
    return _server
