"""The klimaspejl HTTP client (standard library only)."""

import datetime
import gzip
import http.client
import json
import ssl
import time
import urllib.parse

from . import __version__
from .errors import KlimaspejlError, parse_retry_after

DEFAULT_USER_AGENT = f"klimaspejl-python/{__version__}"

# a connection the server closed while idle shows up as one of these on the next request
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.ImproperConnectionState)


def _text(value):
    """A parameter value as the server reads it: booleans as true/false, dates as ISO 8601."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _comma(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return _text(value)


def filter_params(filters):
    """Filters as (name, value) pairs.

    ``filters`` is a dict or a list of pairs; a value is ``"op:value"`` (a bare value means eq), a tuple
    ``(op, value)`` (``value`` a list for ``in`` and ``between``), or a list of those for several filters on one column.
    """
    if not filters:
        return []
    items = filters.items() if isinstance(filters, dict) else filters
    out = []
    for name, value in items:
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, tuple):
                op, arg = v
                out.append((name, f"{op}:{_comma(arg)}"))
            else:
                out.append((name, _text(v)))
    return out


def encode_query(params):
    """(name, value) pairs as a query string; ':' and ',' stay readable, everything else is percent-encoded."""
    return "&".join(
        f"{urllib.parse.quote(n, safe='')}={urllib.parse.quote(v, safe=':,')}" for n, v in params if v is not None)


class Response:
    """A buffered answer: status, headers (dict, lower-case names) and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as e:
            # e.g. a connection cut inside the headers, which http.client takes for an empty body
            raise KlimaspejlError(self.status, "Unreadable response", f"the body is not JSON ({e})",
                                  headers=self.headers, body=self.body.decode("utf-8", "replace")) from e


class Client:
    """A client for one klimaspejl server.

    ``Client("https://klimaspejl.example", token=None, timeout=30)``. ``token`` is a consent token (JWT) for the
    personal ``/v1/me`` routes; open data needs none. Answers 429 and 503 are retried after the server's
    ``Retry-After`` (at most ``max_retries`` times, waiting at most ``max_retry_wait`` seconds each); any other
    error answer raises :class:`KlimaspejlError` with the server's problem details. ``compress`` asks for gzip.
    """

    def __init__(self, base_url="http://localhost:8080", token=None, timeout=30, user_agent=DEFAULT_USER_AGENT,
                 max_retries=4, max_retry_wait=60, compress=True):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port][/prefix], not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.user_agent = user_agent
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.compress = compress  # ask for gzip (unpacked on the fly); False saves CPU on fast local links
        self._conn = None
        self._datasets = {}
        self.sleep = time.sleep  # replaceable in tests

    # --- transport ----------------------------------------------------------------------------------------------

    def _connect(self):
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def close(self):
        """Closes the kept-alive connection (a later call opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def target(self, path, params=None):
        """The request target (path and query) for an API path such as /v1/datasets."""
        query = encode_query(params or [])
        return self._prefix + path + ("?" + query if query else "")

    def _headers(self, extra, auth):
        h = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip" if self.compress else "identity"}
        if auth:
            if not self.token:
                raise ValueError("this route needs a consent token: Client(..., token=...)")
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra or {})
        return h

    def _wait(self, attempt, headers):
        """Seconds to wait before retrying a 429/503, or None to give up."""
        if attempt >= self.max_retries:
            return None
        wait = parse_retry_after(headers.get("retry-after"))
        if wait is None:
            wait = min(2 ** attempt, 30)
        return wait if wait <= self.max_retry_wait else None

    def open(self, method, target, headers=None, auth=False):
        """Sends a request on a new connection and returns (connection, http.client.HTTPResponse) with the body
        unread, for streaming; 429/503 are retried and error answers raise. The caller closes the connection."""
        attempt = 0
        while True:
            conn = self._connect()
            try:
                conn.request(method, target, headers=self._headers(headers, auth))
                resp = conn.getresponse()
            except BaseException:
                conn.close()
                raise
            if resp.status < 400:
                return conn, resp
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            body = _read_body(resp, hdrs)
            conn.close()
            wait = self._wait(attempt, hdrs) if resp.status in (429, 503) else None
            if wait is None:
                raise KlimaspejlError.from_response(resp.status, resp.reason, hdrs, body)
            self.sleep(wait)
            attempt += 1

    def request(self, method, path, params=None, headers=None, auth=False):
        """One request on the kept-alive connection; returns a :class:`Response` (2xx or 304)."""
        target = self.target(path, params)
        attempt = 0
        while True:
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.request(method, target, headers=self._headers(headers, auth))
                resp = self._conn.getresponse()
                hdrs = {k.lower(): v for k, v in resp.getheaders()}
                body = _read_body(resp, hdrs)  # also for HEAD: http.client needs the response finished
            except _STALE:
                self.close()
                if reused:
                    continue  # the server closed an idle connection: once more on a fresh one
                raise
            except BaseException:
                self.close()  # whatever broke (even Ctrl-C), the next request starts on a clean connection
                raise
            if resp.will_close:
                self.close()
            if resp.status < 400:
                return Response(resp.status, hdrs, body)
            wait = self._wait(attempt, hdrs) if resp.status in (429, 503) else None
            if wait is None:
                raise KlimaspejlError.from_response(resp.status, resp.reason, hdrs, body)
            self.sleep(wait)
            attempt += 1

    def get_json(self, path, params=None, auth=False):
        return self.request("GET", path, params, headers={"Accept": "application/json"}, auth=auth).json()

    # --- open data ----------------------------------------------------------------------------------------------

    def datasets(self, lang=None):
        """The catalog: a list of dataset summaries (dicts)."""
        return self.get_json("/v1/datasets", [("lang", lang)] if lang else None)["datasets"]

    def dataset(self, dataset_id, lang=None):
        """One dataset's metadata with its Frictionless Table Schema under ``schema``."""
        out = self.get_json(f"/v1/datasets/{_seg(dataset_id)}", [("lang", lang)] if lang else None)
        self._datasets[dataset_id] = out
        return out

    def _records_params(self, filters, group_by, measures, order, limit, tz, bucket, cursor, fmt=None):
        params = filter_params(filters)
        for name, value in (("group_by", _comma(group_by)), ("measures", _comma(measures)), ("order", _comma(order)),
                            ("bucket", bucket), ("tz", tz), ("limit", None if limit is None else str(limit)),
                            ("format", fmt), ("cursor", cursor)):
            if value is not None:
                params.append((name, value))
        return params

    def records(self, dataset_id, filters=None, group_by=None, measures=None, order=None, limit=None, tz=None,
                bucket=None, cursor=None):
        """One page of ``/records`` as the server's JSON: ``data`` (rows as dicts), ``count``, ``version``,
        ``next_cursor`` (None on the last page) and ``links``.

        ``filters``: ``{"district": "eq:Nørrebro", "day": ["gte:2025-01-01", "lt:2025-02-01"]}`` (see
        :func:`filter_params`); ``group_by``, ``measures`` and ``order`` take a list or a comma string
        (``measures=["sum:electricity_kwh", "count"]``, ``order="-day"``).
        """
        params = self._records_params(filters, group_by, measures, order, limit, tz, bucket, cursor)
        return self.get_json(f"/v1/datasets/{_seg(dataset_id)}/records", params)

    def iter_records(self, dataset_id, filters=None, group_by=None, measures=None, order=None, limit=10000, tz=None,
                     bucket=None):
        """Every row of the query, page after page (``limit`` rows a page) following the keyset cursors to the end.

        A refresh of the dataset while paging ends in KlimaspejlError 410 (the cursor carries the dataset version,
        so rows of two releases are never mixed): start again.
        """
        cursor = None
        while True:
            page = self.records(dataset_id, filters, group_by, measures, order, limit, tz, bucket, cursor)
            yield from page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def download(self, dataset_id, path, format="csv", resume=True, progress=None, *, filters=None, order=None,
                 delimiter=None, bom=None, decimal=None, **more_filters):
        """Streams ``/download`` to ``path`` (via ``path + '.part'``, renamed when complete); see
        :func:`klimaspejl.download.download`. Filters as keyword arguments (``district="eq:Amager Vest"``) or
        ``filters=``."""
        from .download import download

        all_filters = filter_params(filters) + filter_params(more_filters)
        return download(self, dataset_id, path, format, resume, progress, all_filters, order, delimiter, bom, decimal)

    # --- personal data (consent token) -------------------------------------------------------------------------

    def summary(self, month=None, lang=None):
        """The household's climate summary for ``month`` (YYYY-MM; default the server's choice)."""
        params = [(n, v) for n, v in (("month", month), ("lang", lang)) if v is not None]
        return self.get_json("/v1/me/summary", params, auth=True)

    def _series(self, kind, from_, to, resolution, tz):
        params = [("from", _text(from_)), ("to", _text(to))]
        params += [(n, v) for n, v in (("resolution", resolution), ("tz", tz)) if v is not None]
        return self.get_json(f"/v1/me/{kind}", params, auth=True)

    def energy(self, from_, to, resolution=None, tz=None):
        """The household's electricity, heat and water from ``from_`` to ``to`` (dates or times)."""
        return self._series("energy", from_, to, resolution, tz)

    def waste(self, from_, to, resolution=None, tz=None):
        """The household's waste weighings per fraction."""
        return self._series("waste", from_, to, resolution, tz)

    def mobility(self, from_, to, resolution=None, tz=None):
        """The household's trips and kilometres per mode."""
        return self._series("mobility", from_, to, resolution, tz)


def _seg(value):
    return urllib.parse.quote(str(value), safe="")


def _read_body(resp, headers):
    body = resp.read()
    if headers.get("content-encoding") == "gzip" and body:
        body = gzip.decompress(body)
    return body


__all__ = ["Client", "Response", "filter_params", "encode_query"]
