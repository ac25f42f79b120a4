"""A one-line progress display for downloads (bytes so far and the transfer rate) on stderr."""

import sys
import time


def human_bytes(n):
    """1536 -> '1.5 kB' (decimal units, as download tools show them)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} TB"


class Progress:
    """Shows ``label  12.3 MB  4.5 MB/s`` on one line, redrawn at most ten times a second.

    ``mode`` None draws only when the stream is a terminal, True always, False never; a callable is called as
    ``mode(bytes_done, bytes_per_second)`` instead of drawing.
    """

    def __init__(self, mode, label, stream=None, start_bytes=0):
        self.stream = stream if stream is not None else sys.stderr
        self.callback = mode if callable(mode) else None
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
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False

    def restart_clock(self):
        """Measures the rate from now on (after the request was answered)."""
        self.started = time.monotonic()
        self.session = 0

    def rate(self):
        elapsed = time.monotonic() - self.started
        return self.session / elapsed if elapsed > 0 else 0.0

    def update(self, nbytes):
        self.done += nbytes
        self.session += nbytes
        if self.callback is not None:
            self.callback(self.done, self.rate())
            return
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last_draw >= 0.1:
            self.last_draw = now
            self._draw()

    def _draw(self, final=False):
        line = f"\r{self.label}  {human_bytes(self.done)}  {human_bytes(self.rate())}/s"
        if final:
            line += f"  done in {time.monotonic() - self.started:.1f} s\n"
        self.stream.write(line + "\x1b[K" if not final else line)
        self.stream.flush()
        self.drawn = True

    def close(self, ok=True):
        if self.callback is not None:
            self.callback(self.done, self.rate())
            return
        if not self.enabled:
            return
        if ok:
            self._draw(final=True)
        elif self.drawn:
            self.stream.write("\n")
            self.stream.flush()
