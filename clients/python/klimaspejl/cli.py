"""python3 -m klimaspejl — quick use from a shell."""

import argparse
import http.client
import json
import os
import sys

from . import __version__
from .client import Client
from .csvout import to_csv
from .errors import DownloadInterrupted, KlimaspejlError


def _filters(items):
    out = []
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--filter takes COLUMN=OP:VALUE (e.g. district=eq:Nørrebro), not {item!r}")
        out.append((name, value))
    return out


def build_parser():
    p = argparse.ArgumentParser(prog="python3 -m klimaspejl", description="Query and download klimaspejl open data.")
    p.add_argument("--url", default=os.environ.get("KLIMASPEJL_URL", "http://localhost:8080"),
                   help="server base URL (env KLIMASPEJL_URL; default %(default)s)")
    p.add_argument("--token", default=os.environ.get("KLIMASPEJL_TOKEN"), help="consent token for /v1/me routes")
    p.add_argument("--timeout", type=float, default=30, help="seconds per network operation (default 30)")
    p.add_argument("--version", action="version", version=f"klimaspejl-python {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("datasets", help="list the datasets (id, version, title)")
    d.add_argument("id", nargs="?", help="show one dataset's metadata and schema as JSON")
    d.add_argument("--json", action="store_true", help="print the catalog as JSON")

    r = sub.add_parser("records", help="query records; prints CSV (or JSON lines) to stdout or --out")
    r.add_argument("id")
    r.add_argument("-f", "--filter", action="append", metavar="COL=OP:VALUE", help="a filter; repeatable")
    r.add_argument("--group-by", help="comma-separated columns")
    r.add_argument("--measures", help="e.g. sum:electricity_kwh,count")
    r.add_argument("--order", help="e.g. -day,district_id")
    r.add_argument("--bucket", choices=["hour", "day", "week", "month", "year"])
    r.add_argument("--tz", help="IANA time zone for bucketing")
    r.add_argument("--limit", type=int, help="rows per page (default 10000 with --all, else the server's 100)")
    r.add_argument("--all", action="store_true", help="follow the cursors to the last page")
    r.add_argument("--ndjson", action="store_true", help="print JSON lines instead of CSV")
    r.add_argument("-o", "--out", help="write to this file instead of stdout")

    dl = sub.add_parser("download", help="stream a whole dataset (or a filtered slice) to a file, resumably")
    dl.add_argument("id")
    dl.add_argument("path", help="destination file (written via PATH.part)")
    dl.add_argument("--format", choices=["csv", "ndjson"], default="csv")
    dl.add_argument("-f", "--filter", action="append", metavar="COL=OP:VALUE", help="a filter; repeatable")
    dl.add_argument("--order")
    dl.add_argument("--delimiter", choices=[",", ";", "tab"])
    dl.add_argument("--bom", action="store_true", help="start with a UTF-8 byte-order mark (Excel)")
    dl.add_argument("--decimal", choices=[".", ","], help="decimal separator (default: ',' with --delimiter ';')")
    dl.add_argument("--no-resume", action="store_true", help="start from scratch even if PATH.part exists")
    g = dl.add_mutually_exclusive_group()
    g.add_argument("--progress", dest="progress", action="store_const", const=True, default=None,
                   help="always show the progress line (default: only on a terminal)")
    g.add_argument("--no-progress", dest="progress", action="store_const", const=False)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    client = Client(args.url, token=args.token, timeout=args.timeout)
    try:
        if args.command == "datasets":
            if args.id:
                json.dump(client.dataset(args.id), sys.stdout, ensure_ascii=False, indent=2)
                sys.stdout.write("\n")
            elif args.json:
                json.dump(client.datasets(), sys.stdout, ensure_ascii=False, indent=2)
                sys.stdout.write("\n")
            else:
                for ds in client.datasets():
                    print(f"{ds['id']:<28} v{ds.get('version', '?'):<4} {ds.get('title') or ds.get('title_en', '')}")
        elif args.command == "records":
            kw = dict(filters=_filters(args.filter), group_by=args.group_by, measures=args.measures, order=args.order,
                      tz=args.tz, bucket=args.bucket)
            if args.all:
                rows = client.iter_records(args.id, limit=args.limit or 10000, **kw)
            else:
                rows = client.records(args.id, limit=args.limit, **kw)["data"]
            out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout
            try:
                if args.ndjson:
                    n = 0
                    for row in rows:
                        out.write(json.dumps(row, ensure_ascii=False) + "\n")
                        n += 1
                else:
                    n = to_csv(rows, out)
            finally:
                if args.out:
                    out.close()
            print(f"{n} rows", file=sys.stderr)
        elif args.command == "download":
            res = client.download(args.id, args.path, format=args.format, resume=not args.no_resume,
                                  progress=args.progress, filters=_filters(args.filter), order=args.order,
                                  delimiter=args.delimiter, bom=True if args.bom else None, decimal=args.decimal)
            how = {"fresh": "", "keyset": " (resumed)", "prefix": " (resumed, prefix re-read)"}[res.method]
            print(f"{res.path}: {res.bytes} bytes, dataset version {res.version}{how}", file=sys.stderr)
    except DownloadInterrupted as e:
        print(f"klimaspejl: {e.detail}; run the same command again to resume", file=sys.stderr)
        return 3
    except KlimaspejlError as e:
        print(f"klimaspejl: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except (OSError, http.client.HTTPException) as e:
        print(f"klimaspejl: {e!r}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0
