#!/usr/bin/env python3
"""tests/checks/layering.py — the include rules of DESIGN section 1, read from every `#include "..."` of server/src.

    core <- {http, db, auth, geo} <- app <- {opendata, citizen, consent} <- cli, main.c

Never: a lower layer includes a higher one; core includes anything of the project but core; http, db, auth, geo include
anything but core (auth may use db); one audience folder (opendata, citizen, consent) includes another. An include of a
file that does not exist is reported too. And the rule that a handler knows its route's policy only from its
route-table entry, as far as the source lines can tell: outside the route tables (an audience's module.c,
app/service.c) and app/ itself, no file names a route class or CORS policy (APP_CLASS_*, APP_CORS_*), sets
Cache-Control or Access-Control-* headers itself, or compares a path with a route pattern ("/v1/...", "/oauth/..."). Usage: layering.py [SRC_DIR] — prints one line per violation as
FILE:LINE: message and exits 1 when there is any (0 otherwise)."""
import os
import re
import sys

# What each folder may include (besides itself).
ALLOWED = {
    'core': set(),
    'http': {'core'},
    'db': {'core'},
    'auth': {'core', 'db'},
    'geo': {'core'},
    'app': {'core', 'http', 'db', 'auth', 'geo'},
    'opendata': {'core', 'http', 'db', 'auth', 'geo', 'app'},
    'citizen': {'core', 'http', 'db', 'auth', 'geo', 'app'},
    'consent': {'core', 'http', 'db', 'auth', 'geo', 'app'},
    'cli': {'core', 'http', 'db', 'auth', 'geo', 'app', 'opendata', 'citizen', 'consent'},
    '.': {'cli'},  # main.c
}
AUDIENCES = {'opendata', 'citizen', 'consent'}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# Policy outside the route table: a class or CORS constant, a Cache-Control or Access-Control header set by hand, a path
# compared with a route pattern. (http/ sets Cache-Control for problems, static files and 304s: not a route policy.)
POLICY = [
    (re.compile(r'\bAPP_(CLASS|CORS)_[A-Z_]+'), 'names a route class or CORS policy'),
    (re.compile(r'H2O_TOKEN_CACHE_CONTROL|"cache-control"', re.I), 'sets Cache-Control itself'),
    (re.compile(r'H2O_TOKEN_ACCESS_CONTROL|"access-control-', re.I), 'sets an Access-Control header itself'),
    (re.compile(r'\b(strn?cmp|memcmp|h2o_memis|strstr|memmem)\b.*"/(v1|oauth|\.well-known)/'), 'compares a path with a route pattern'),
]
ROUTE_TABLES = {'opendata/module.c', 'citizen/module.c', 'consent/module.c', 'app/service.c'}


def folder_of(rel):
    return rel.split('/')[0] if '/' in rel else '.'


def check(src):
    problems = []
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            here = folder_of(rel)
            if here not in ALLOWED:
                problems.append(f'{rel}:1: folder {here}/ is not a layer of DESIGN section 1')
                continue
            with open(path, encoding='utf-8') as f:
                for lineno, line in enumerate(f, 1):
                    if here not in ('app', 'http', 'core') and rel not in ROUTE_TABLES:
                        for pattern, what in POLICY:
                            if pattern.search(line):
                                problems.append(f'{rel}:{lineno}: {what}: a handler reads its policy from its route-table '
                                                'entry (app/route.h)')
                    m = INCLUDE.match(line)
                    if m is None:
                        continue
                    target = m.group(1)
                    there = folder_of(target)
                    if not os.path.isfile(os.path.join(src, target)):
                        problems.append(f'{rel}:{lineno}: includes "{target}", which is not a file of server/src')
                    elif there == here:
                        continue
                    elif here in AUDIENCES and there in AUDIENCES:
                        problems.append(f'{rel}:{lineno}: audience {here}/ includes audience {there}/ ("{target}"): '
                                        'what two audiences share moves down into app/ or below')
                    elif there not in ALLOWED[here]:
                        problems.append(f'{rel}:{lineno}: {here}/ may not include {there}/ ("{target}"); '
                                        f'{here}/ may include {", ".join(sorted(ALLOWED[here])) or "nothing but itself"}')
    return problems


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../../server/src')
    problems = check(src)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
