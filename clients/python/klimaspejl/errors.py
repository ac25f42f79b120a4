"""Errors raised by the klimaspejl client."""

import json


class KlimaspejlError(Exception):
    """An error answer from the server, carrying its RFC 9457 problem details.

    Attributes: ``status`` (HTTP status), ``type``, ``title``, ``detail``, ``instance`` and ``parameter`` (the name of
    the request parameter at fault, when the server names one), plus ``headers`` (a dict, lower-case names) and
    ``body`` (the raw response text).
    """

    def __init__(self, status, title=None, detail=None, type=None, parameter=None, instance=None, headers=None, body=None):
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.parameter = parameter
        self.instance = instance
        self.headers = dict(headers or {})
        self.body = body
        super().__init__(self._message())

    def _message(self):
        text = f"{self.status} {self.title or 'error'}"
        if self.detail:
            text += f": {self.detail}"
        if self.parameter:
            text += f" (parameter: {self.parameter})"
        return text

    @property
    def retry_after(self):
        """The server's Retry-After in seconds, or None."""
        return parse_retry_after(self.headers.get("retry-after"))

    @classmethod
    def from_response(cls, status, reason, headers, body_bytes):
        """Builds the error from a non-2xx answer; a problem+json body fills the problem fields."""
        text = body_bytes.decode("utf-8", "replace") if body_bytes else ""
        problem = {}
        ctype = headers.get("content-type", "")
        if "json" in ctype and text:
            try:
                parsed = json.loads(text)
                if isinstance(parsed, dict):
                    problem = parsed
            except ValueError:
                problem = {}
        return cls(
            status=problem["status"] if isinstance(problem.get("status"), int) else status,
            title=problem.get("title", reason),
            detail=problem.get("detail"),
            type=problem.get("type"),
            parameter=problem.get("parameter"),
            instance=problem.get("instance"),
            headers=headers,
            body=text,
        )


class DownloadInterrupted(KlimaspejlError):
    """A download broke off after it started. The partial file (``part_path``) is kept: call ``download`` again with
    ``resume=True`` (the default) to continue where it stopped."""

    def __init__(self, part_path, bytes_written, cause):
        self.part_path = part_path
        self.bytes_written = bytes_written
        self.cause = cause
        super().__init__(status=0, title="Download interrupted",
                         detail=f"{cause!r} after {bytes_written} bytes; partial file kept at {part_path}")

    def _message(self):
        return f"{self.title}: {self.detail}"


def parse_retry_after(value):
    """Retry-After as seconds (delta-seconds or an HTTP-date), or None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        import email.utils
        import time

        when = email.utils.parsedate_to_datetime(value)
        return max(0, int(when.timestamp() - time.time() + 0.999))
    except (TypeError, ValueError, OverflowError):
        return None
