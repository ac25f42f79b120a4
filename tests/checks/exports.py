#!/usr/bin/env python3
"""tests/checks/exports.py — no unused export: every function a file of the static library defines without `static`
(nm: T) is used outside its file — by another object of the library (nm: U) or by main.o. What only its own file uses
must be static; what only tests use is tested by including the .c (tests/unit). Usage: exports.py LIBRARY.a MAIN.o —
prints OBJECT: symbol for each unused export and exits 1 when there is any."""
import subprocess
import sys


def symbols(path):
    """[(object name, defined functions, undefined symbols)] of an archive or object file, in archive order. Members of
    the same name (auth/token.c and cli/token.c are both token.c.o) stay apart: nm lists each member's symbols together,
    so a change of member name starts the next object."""
    out = subprocess.run(['nm', '-A', path], capture_output=True, text=True, check=True).stdout
    objs = []
    last = None
    for line in out.splitlines():
        # "lib.a:obj.o:0000000000000000 T name", "lib.a:obj.o:                 U name" or "obj.o:... T name"
        head, _, rest = line.rpartition(':')
        parts = rest.split()
        if head != last:
            objs.append((head.rpartition(':')[2] or head, set(), set()))
            last = head
        if len(parts) == 3 and parts[1] == 'T':
            objs[-1][1].add(parts[2])
        elif len(parts) == 2 and parts[0] == 'U':
            objs[-1][2].add(parts[1])
    return objs


def main():
    if len(sys.argv) < 3:
        print('usage: exports.py LIBRARY.a MAIN.o', file=sys.stderr)
        return 2
    objs = symbols(sys.argv[1]) + symbols(sys.argv[2])
    unused = []
    for i, (name, defined, _) in enumerate(objs):
        for sym in sorted(defined - {'main'}):
            if not any(sym in undef for j, (_, _, undef) in enumerate(objs) if j != i):
                unused.append(f'{name}: {sym}')
    for u in unused:
        print(u)
    return 1 if unused else 0


if __name__ == '__main__':
    sys.exit(main())
