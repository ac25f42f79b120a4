"""A one-line progress display for downloads on stderr: rows and bytes so far, of the total when it is known (the
dataset's row count for the download's filters, asked of the records API), the transfer rate and the time left."""

import inspect
import sys
import time


def human_bytes(n):
    """1536 -> '1.5 kB' (decimal units, as download tools show them)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} TB"


def human_seconds(s):
    """75 -> '1 min 15 s', 3700 -> '1 h 2 min'."""
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _wants_info(fn):
    """Whether a progress callback takes a third argument (the info dict)."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params)


class Progress:
    """Shows ``label  1,200 of 4,010 rows (30 %)  1.2 MB of ~4.0 MB  450 kB/s  6 s left`` on one line, redrawn at
    most ten times a second; without a known total ``label  1,200 rows  1.2 MB  450 kB/s``.

    ``mode`` None draws only when the stream is a terminal, True always, False never; a callable is called as
    ``mode(bytes_done, bytes_per_second)`` instead of drawing, or ``mode(bytes_done, bytes_per_second, info)`` when it
    takes three arguments, with ``info`` = ``{"rows", "total_rows", "total_bytes_estimate", "seconds_left"}`` (None
    where unknown). ``total_rows``: the rows the download will hold (None: unknown). ``csv``: the first line of a
    fresh file is the header, not a row.
    """

    def __init__(self, mode, label, stream=None, start_bytes=0, total_rows=None, csv=False):
        self.stream = stream if stream is not None else sys.stderr
        self.callback = mode if callable(mode) else None
        self.callback_info = self.callback is not None and _wants_info(self.callback)
        if self.callback is not None:
            self.enabled = False
        elif mode is None:
            isatty = getattr(self.stream, "isatty", None)
            self.enabled = bool(isatty and isatty())
        else:
            self.enabled = bool(mode)
        self.label = label
        self.done = start_bytes
        self.session = 0
        self.rows = 0
        self.session_rows = 0
        self.total_rows = total_rows
        self.header_pending = csv
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False

    @property
    def wanted(self):
        """Whether anyone looks at the progress (worth asking the server for the total)."""
        return self.enabled or self.callback is not None

    def restart_clock(self):
        """Measures the rate from now on (after the request was answered)."""
        self.started = time.monotonic()
        self.session = 0
        self.session_rows = 0

    def start_at(self, nbytes, newlines):
        """A resumed download: nbytes and this many line ends are already on disk (the header's among them)."""
        self.done = nbytes
        self.rows = 0
        self._count(newlines)

    def _count(self, newlines):
        if self.header_pending and newlines > 0:
            newlines -= 1
            self.header_pending = False
        self.rows += newlines
        return newlines

    def rate(self):
        elapsed = time.monotonic() - self.started
        return self.session / elapsed if elapsed > 0 else 0.0

    def info(self):
        """Rows so far, the total rows and the estimated total bytes (None when unknown), the seconds left."""
        total_bytes = left = None
        if self.total_rows is not None and self.rows > 0:
            total_bytes = self.done * max(self.total_rows, self.rows) / self.rows
        elapsed = time.monotonic() - self.started
        if self.total_rows is not None and self.session_rows > 0 and elapsed > 0:
            left = max(0, self.total_rows - self.rows) / (self.session_rows / elapsed)
        return {"rows": self.rows, "total_rows": self.total_rows, "total_bytes_estimate": total_bytes,
                "seconds_left": left}

    def update(self, nbytes, newlines=0):
        """nbytes more were written, holding newlines line ends (rows, and the CSV header once)."""
        self.done += nbytes
        self.session += nbytes
        self.session_rows += self._count(newlines)
        if self.callback is not None:
            self._call()
            return
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last_draw >= 0.1:
            self.last_draw = now
            self._draw()

    def _call(self):
        if self.callback_info:
            self.callback(self.done, self.rate(), self.info())
        else:
            self.callback(self.done, self.rate())

    def line(self, final=False):
        """The progress line's text (without the carriage return)."""
        i = self.info()
        if self.total_rows is not None:
            total = max(self.total_rows, self.rows)
            pct = 100 * self.rows // total if total else 100
            parts = [f"{self.rows:,} of {total:,} rows ({pct} %)"]
            est = i["total_bytes_estimate"]
            parts.append(f"{human_bytes(self.done)} of ~{human_bytes(est)}" if est is not None and not final
                         else human_bytes(self.done))
        else:
            parts = [f"{self.rows:,} rows", human_bytes(self.done)]
        parts.append(f"{human_bytes(self.rate())}/s")
        if final:
            parts.append(f"done in {time.monotonic() - self.started:.1f} s")
        elif i["seconds_left"] is not None:
            parts.append(f"{human_seconds(i['seconds_left'])} left")
        return f"{self.label}  " + "  ".join(parts)

    def _draw(self, final=False):
        line = "\r" + self.line(final)
        self.stream.write(line + "\n" if final else line + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self, ok=True):
        if self.callback is not None:
            self._call()
            return
        if not self.enabled:
            return
        if ok:
            self._draw(final=True)
        elif self.drawn:
            self.stream.write("\n")
            self.stream.flush()
