"""Streaming downloads with resume.

The server's ``/download`` streams PostgreSQL COPY output with no Content-Length and answers ``Accept-Ranges: none``:
HTTP Range requests are not available. Resume uses what the server does offer instead: rows come in a total order
(the requested ``order``, else the dataset's ``default_order``, then its ``primary_key``), and every one of those
columns can be filtered with ``eq`` and ``gt``/``lt``. After an interruption the partial file ends at a complete row
(only whole rows are ever written); the rest of the file is exactly the rows after that row's keys (k1, k2, ...),
which is the union, in this order, of the downloads

    k1 = eq:v1 AND ... AND k(n-1) = eq:v(n-1) AND kn = gt:vn
    ...
    k1 = eq:v1 AND k2 = gt:v2
    k1 = gt:v1

each with the same filters, format and order as the original, with its header line dropped. When only the first p
key columns take gt/lt (e.g. an enum column such as a waste fraction takes only eq/ne/in), the first continuation is
instead the group k1 = eq:v1 AND ... AND kp = eq:vp, read up to and including the last row on disk (which it must
contain) and appended from there. COPY prints every row the same way in each, so the finished file is byte-identical
to an uninterrupted download. Before resuming, a HEAD
of the original URL must return the ETag of the first attempt, and every continuation must carry the same
X-Dataset-Version; otherwise the dataset changed and the download starts again from scratch. Where the keys cannot
be used (a key value is NULL, the first key column takes no gt/lt, too many filters), the original URL is fetched
again and the bytes already on disk are checked against it and skipped.
"""

import csv
import io
import json
import http.client
import os
import re
import urllib.parse
import zlib

from .errors import DownloadInterrupted, KlimaspejlError
from .progress import Progress

CHUNK = 64 * 1024
MAX_FILTERS = 16  # the server's QUERY_MAX_FILTERS
BOM = b"\xef\xbb\xbf"


class DownloadResult:
    """What :func:`download` did: ``path``, ``bytes`` (file size), ``etag``, ``version``, ``resumed_from`` (bytes
    already on disk when this call began, 0 for a fresh download), ``transferred`` (body bytes received by this
    call), ``requests`` (GET requests for data) and ``method`` ('fresh', 'keyset' or 'prefix')."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return "DownloadResult(" + ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()) + ")"


class _Restart(Exception):
    """The dataset changed under a resume: start again from scratch."""


def _boundary(buf, csv_mode, start=0):
    """The offset just past the last complete record in buf (0 if none). In CSV a newline ends a record only outside
    quotes: RFC 4180 doubles quotes inside quoted fields, so an even count of '"' before it means outside."""
    idx = buf.rfind(b"\n")
    while idx >= start:
        if not csv_mode or buf.count(b'"', 0, idx) % 2 == 0:
            return idx + 1
        idx = buf.rfind(b"\n", 0, idx)
    return 0


def _first_boundary(buf, csv_mode, pos=0):
    """The offset just past the first complete record that starts at pos (0 if none yet)."""
    idx = buf.find(b"\n", pos)
    while idx >= 0:
        if not csv_mode or buf.count(b'"', pos, idx) % 2 == 0:
            return idx + 1
        idx = buf.find(b"\n", idx + 1)
    return 0


class _Sink:
    """Writes only whole records to the file; a partial record waits in memory until its end arrives."""

    def __init__(self, f, csv_mode, progress):
        self.f = f
        self.csv_mode = csv_mode
        self.pending = b""
        self.progress = progress
        self.written = f.tell()

    def feed(self, data):
        buf = self.pending + data if self.pending else data
        cut = _boundary(buf, self.csv_mode)
        if cut:
            chunk = buf[:cut] if cut < len(buf) else buf
            self.f.write(chunk)
            self.written += cut
            self.progress.update(cut, chunk.count(b"\n"))
        self.pending = buf[cut:]

    def finish(self):
        if self.pending:
            self.f.write(self.pending)
            self.written += len(self.pending)
            self.progress.update(len(self.pending), self.pending.count(b"\n") or 1)
            self.pending = b""


class _DropHeader:
    """Drops the first record of a continuation (BOM and header line) after checking it equals the file's."""

    def __init__(self, sink, header, csv_mode):
        self.sink = sink
        self.header = header
        self.csv_mode = csv_mode
        self.buf = b""
        self.done = not csv_mode

    def feed(self, data):
        if self.done:
            self.sink.feed(data)
            return
        self.buf += data
        cut = _first_boundary(self.buf, True)
        if not cut:
            return
        first, rest = self.buf[:cut], self.buf[cut:]
        self.buf = b""
        self.done = True
        if _strip_bom(first) != self.header:
            raise _Restart("the continuation's header differs from the file's")
        if rest:
            self.sink.feed(rest)

    def finish(self):
        if not self.done and self.buf:
            raise _Restart("a continuation ended inside its header")


def _same_entity(a, b):
    """Whether two strong ETags name the same content: the server gives a gzip body its own tag ("<tag>-gzip"), and the
    file holds the decoded bytes whichever coding carried them."""
    def base(t):
        return re.sub(r'-(gzip|br)"$', '"', t) if t else t
    return a is not None and base(a) == base(b)


def _strip_bom(b):
    return b[3:] if b.startswith(BOM) else b


def _pump(resp, consumer, counter):
    """Reads the body (gunzipping it when the server compressed it) into consumer; counter[0] += decoded bytes."""
    gz = zlib.decompressobj(16 + zlib.MAX_WBITS) if (resp.getheader("content-encoding") or "") == "gzip" else None
    while True:
        chunk = resp.read1(CHUNK)
        if not chunk:
            break
        if gz is not None:
            chunk = gz.decompress(chunk)
        if chunk:
            counter[0] += len(chunk)
            consumer.feed(chunk)
    if gz is not None:
        tail = gz.flush()
        if tail:
            counter[0] += len(tail)
            consumer.feed(tail)
        if not gz.eof:
            raise http.client.IncompleteRead(b"", None)
    consumer.finish()


def _order_keys(meta, order):
    """The download's total order as [(column, descending)]: ``order`` or the default order, then the primary key."""
    keys = []
    if order:
        items = order if isinstance(order, (list, tuple)) else str(order).split(",")
        for item in items:
            item = item.strip()
            keys.append((item[1:], True) if item.startswith("-") else (item, False))
    else:
        keys = [(c, False) for c in meta.get("default_order") or []]
    for c in meta.get("primary_key") or meta.get("schema", {}).get("primaryKey") or []:
        if c not in [k for k, _ in keys]:
            keys.append((c, False))
    return keys


def _read_last_record(part, size):
    """(header bytes without BOM, last record bytes) of the partial file, or None when it cannot tell."""
    with open(part, "rb") as f:
        header = f.readline()
        f.seek(max(0, size - CHUNK))
        tail = f.read()
    if not tail.endswith(b"\n"):
        return None
    j = tail.rfind(b"\n", 0, len(tail) - 1)
    if j < 0 and size > len(tail):
        return None
    return _strip_bom(header), tail[j + 1:]


def _key_values(fmt, delimiter, header, last, keys):
    """The key columns' text in the last written row, or None if any is missing or NULL."""
    try:
        if fmt == "csv":
            names = next(csv.reader(io.StringIO(header.decode("utf-8")), delimiter=delimiter))
            fields = next(csv.reader(io.StringIO(last.decode("utf-8")), delimiter=delimiter))
            if len(fields) != len(names):
                return None
            row = dict(zip(names, fields))
        else:
            row = json.loads(last.decode("utf-8"), parse_float=str, parse_int=str)
    except (ValueError, StopIteration, csv.Error):
        return None
    values = []
    for col, _ in keys:
        v = row.get(col)
        if v is None or v == "":
            return None  # NULL has no place in a keyset
        if isinstance(v, bool):
            v = "true" if v else "false"
        values.append(str(v))
    return values


def _usable_keys(meta, keys):
    """How many leading key columns take eq and the gt/lt their direction needs."""
    ops = {f["name"]: set((f.get("x-klimaspejl") or {}).get("operators") or [])
           for f in (meta.get("schema") or {}).get("fields", [])}
    p = 0
    while p < len(keys) and "eq" in ops.get(keys[p][0], ()) and ("lt" if keys[p][1] else "gt") in ops.get(keys[p][0], ()):
        p += 1
    return p


def _continuations(keys, p, values, base_filters):
    """The continuation downloads in file order as (filters, skip_through_last_row). With p < len(keys) usable key
    columns, the first continuation is the whole group of rows sharing the first p key values (small: it differs only
    in the remaining key columns), of which the rows up to and including the last one on disk are dropped."""
    plans = []
    if p < len(keys):
        plans.append((base_filters + [(keys[j][0], "eq:" + values[j]) for j in range(p)], True))
    for i in range(p - 1, -1, -1):
        extra = [(keys[j][0], "eq:" + values[j]) for j in range(i)]
        extra.append((keys[i][0], ("lt:" if keys[i][1] else "gt:") + values[i]))
        plans.append((base_filters + extra, False))
    return plans


class _SkipThrough:
    """Drops the records of a continuation up to and including the one equal to the last record on disk."""

    def __init__(self, sink, last, csv_mode):
        self.sink = sink
        self.last = last
        self.csv_mode = csv_mode
        self.buf = b""
        self.found = False

    def feed(self, data):
        if self.found:
            self.sink.feed(data)
            return
        self.buf += data
        pos = 0
        while True:
            end = _first_boundary(self.buf, self.csv_mode, pos)
            if not end:
                break
            if self.buf[pos:end] == self.last:
                self.found = True
                rest, self.buf = self.buf[end:], b""
                if rest:
                    self.sink.feed(rest)
                return
            pos = end
        self.buf = self.buf[pos:]

    def finish(self):
        if not self.found:
            raise _Restart("the last row on disk is not in the server's data")
        self.sink.finish()


def _total_rows(client, dataset_id, filters, meta):
    """The rows a download with these filters will hold: without filters the catalog's ``rows`` (the current version's
    row count, already in ``meta``); with filters the records API's count of listed cells for the same filters (one
    aggregate row); None when the server cannot say (an error, or an answer without it)."""
    if not filters and isinstance(meta, dict) and isinstance(meta.get("rows"), int):
        return meta["rows"]
    try:
        page = client.get_json(f"/v1/datasets/{urllib.parse.quote(str(dataset_id), safe='')}/records",
                               list(filters) + [("measures", "count")])
        cells = page["data"][0]["cells"] if page.get("data") else 0
        return int(cells)
    except (KlimaspejlError, OSError, http.client.HTTPException, KeyError, IndexError, TypeError, ValueError):
        return None


def _count_newlines(path):
    """Line ends in a file, read in 1 MiB pieces."""
    n = 0
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            n += piece.count(b"\n")
    return n


def download(client, dataset_id, path, fmt="csv", resume=True, progress=None, filters=(), order=None, delimiter=None,
             bom=None, decimal=None):
    """Streams a dataset (or a filtered slice) to ``path`` and returns a :class:`DownloadResult`.

    The bytes go to ``path + '.part'`` (only whole rows are written) and the file is renamed to ``path`` when the
    server ended the stream properly. If the stream breaks, :class:`DownloadInterrupted` is raised and the partial
    file kept; calling ``download`` again with ``resume=True`` continues it (see the module's description), checking
    the ETag first. ``progress``: None draws a progress line on stderr when it is a terminal, True always, False
    never, or a callable ``f(bytes_done, bytes_per_second)`` (or ``f(bytes_done, bytes_per_second, info)``, see
    :class:`Progress`). When progress is shown, the total row count is the catalog's ``rows`` for a whole dataset, or for
    a filtered one asked of the records API first (one small aggregate request), so the line shows rows of the total, the estimated size and the time left; when the
    server cannot say, rows and bytes so far. ``decimal``: ``","`` or ``"."`` for CSV numbers (the
    server writes decimal commas by default when ``delimiter=";"``, for Danish spreadsheets).
    """
    if fmt not in ("csv", "ndjson"):
        raise ValueError("format must be csv or ndjson")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"no such directory: {folder}")
    filters = list(filters)
    meta = client.dataset(dataset_id)
    extra = [("format", fmt)]
    if order:
        extra.append(("order", ",".join(order) if isinstance(order, (list, tuple)) else str(order)))
    if delimiter is not None:
        extra.append(("delimiter", "tab" if delimiter == "\t" else delimiter))
    if bom is not None:
        extra.append(("bom", "1" if bom else "0"))
    if decimal is not None:
        extra.append(("decimal", decimal))
    api_path = f"/v1/datasets/{urllib.parse.quote(str(dataset_id), safe='')}/download"
    url = client.target(api_path, filters + extra)
    part, state_path = path + ".part", path + ".part.json"
    csv_mode = fmt == "csv"
    delim = {"tab": "\t", None: ","}.get(delimiter, delimiter)
    bar = Progress(progress, os.path.basename(path), csv=csv_mode)
    if bar.wanted:
        bar.total_rows = _total_rows(client, dataset_id, filters, meta)

    state = None
    if resume and os.path.exists(part) and os.path.exists(state_path):
        try:
            with open(state_path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = None
        if not isinstance(state, dict) or state.get("url") != url:
            state = None
    if state is None:
        for p in (part, state_path):
            if os.path.exists(p):
                os.unlink(p)

    counter = [0]
    requests = 0
    resumed_from = 0
    method = "fresh"
    ok = False
    f = None
    try:
        if state is not None:
            size = os.path.getsize(part)
            head = client.request("HEAD", api_path, filters + extra)
            if not _same_entity(head.headers.get("etag"), state.get("etag")) or size == 0:
                state = None
        if state is not None:
            info = _read_last_record(part, size)
            keys = _order_keys(meta, order)
            p = _usable_keys(meta, keys)
            plans = None
            if info is not None:
                header, last = info
                if csv_mode and _strip_bom(last) == header:
                    plans = [(filters, False)]  # only the header is on disk: every row follows
                elif p > 0 and len(filters) + p <= MAX_FILTERS:
                    values = _key_values(fmt, delim, header, last, keys[:p])
                    plans = _continuations(keys, p, values, filters) if values is not None else None
            f = open(part, "r+b")
            f.seek(0, os.SEEK_END)
            resumed_from = f.tell()
            bar.start_at(resumed_from, _count_newlines(part) if bar.wanted else 0)
            bar.restart_clock()
            sink = _Sink(f, csv_mode, bar)
            try:
                if plans is not None:
                    method = "keyset"
                    for plan, skip in plans:
                        conn, resp = client.open("GET", client.target(api_path, plan + extra))
                        requests += 1
                        try:
                            if resp.getheader("x-dataset-version") != str(state.get("version")):
                                raise _Restart("the dataset version changed")
                            consumer = _SkipThrough(sink, last, csv_mode) if skip else sink
                            if csv_mode:
                                consumer = _DropHeader(consumer, header, csv_mode)
                            _pump(resp, consumer, counter)
                        finally:
                            conn.close()
                else:
                    method = "prefix"
                    conn, resp = client.open("GET", url)
                    requests += 1
                    try:
                        if not _same_entity(resp.getheader("etag"), state.get("etag")):
                            raise _Restart("the ETag changed")
                        _pump(resp, _SkipPrefix(part, resumed_from, sink), counter)
                    finally:
                        conn.close()
            except _Restart:
                f.close()
                f = None
                state = None
                resumed_from = 0
                method = "fresh"
                bar.header_pending = csv_mode
                bar.start_at(0, 0)
        if state is None:
            conn, resp = client.open("GET", url)
            requests += 1
            try:
                state = {"url": url, "etag": resp.getheader("etag"), "version": resp.getheader("x-dataset-version"),
                         "format": fmt}
                with open(state_path, "w", encoding="utf-8") as sf:
                    json.dump(state, sf)
                f = open(part, "w+b")
                bar.restart_clock()
                sink = _Sink(f, csv_mode, bar)
                _pump(resp, sink, counter)
            finally:
                conn.close()
        f.flush()
        os.fsync(f.fileno())
        f.close()
        f = None
        os.replace(part, path)
        os.unlink(state_path)
        ok = True
        return DownloadResult(path=path, bytes=os.path.getsize(path), etag=state.get("etag"),
                              version=state.get("version"), resumed_from=resumed_from, transferred=counter[0],
                              requests=requests, method=method)
    except KlimaspejlError:
        raise
    except (OSError, http.client.HTTPException, zlib.error, _Restart) as e:
        written = 0
        if f is not None:
            f.flush()
            written = f.tell()
        raise DownloadInterrupted(part, written, e) from e
    finally:
        if f is not None:
            f.close()
        bar.close(ok)


class _SkipPrefix:
    """Checks the first n bytes of a refetch against the partial file, then passes the rest on."""

    def __init__(self, part, n, sink):
        self.f = open(part, "rb")
        self.left = n
        self.sink = sink

    def feed(self, data):
        if self.left:
            take = min(self.left, len(data))
            if self.f.read(take) != data[:take]:
                raise _Restart("the bytes on disk differ from the server's")
            self.left -= take
            data = data[take:]
            if not self.left:
                self.f.close()
        if data:
            self.sink.feed(data)

    def finish(self):
        if self.left:
            self.f.close()
            raise _Restart("the server's file is shorter than the partial file")
        self.sink.finish()
