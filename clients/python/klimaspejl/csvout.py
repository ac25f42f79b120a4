"""Rows (dicts) to CSV that pandas, R and spreadsheets read as is."""

import csv
import math


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    if isinstance(v, (dict, list)):
        import json

        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return v


def to_csv(rows, path_or_file, columns=None, delimiter=","):
    """Writes rows (an iterable of dicts, e.g. :meth:`Client.iter_records`) as RFC 4180 CSV: UTF-8, a header row,
    fields quoted only when needed, lines ending in CRLF, NULL as an empty field. ``columns`` fixes the columns and
    their order (default: the first row's keys; a later row's extra keys are an error). ``path_or_file`` is a path
    or a text file opened with ``newline=''``. Returns the number of data rows written."""
    if isinstance(path_or_file, (str, bytes)) or hasattr(path_or_file, "__fspath__"):
        with open(path_or_file, "w", encoding="utf-8", newline="") as f:
            return _write(rows, f, columns, delimiter)
    return _write(rows, path_or_file, columns, delimiter)


def _write(rows, f, columns, delimiter):
    it = iter(rows)
    n = 0
    w = None
    if columns is not None:
        w = csv.DictWriter(f, fieldnames=list(columns), delimiter=delimiter, lineterminator="\r\n",
                           quoting=csv.QUOTE_MINIMAL, extrasaction="raise")
        w.writeheader()
    for row in it:
        if w is None:
            w = csv.DictWriter(f, fieldnames=list(row.keys()), delimiter=delimiter, lineterminator="\r\n",
                               quoting=csv.QUOTE_MINIMAL, extrasaction="raise")
            w.writeheader()
        w.writerow({k: _cell(v) for k, v in row.items()})
        n += 1
    return n


__all__ = ["to_csv"]
