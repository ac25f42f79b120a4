#!/usr/bin/env python3
"""tests/checks/duplicates.py — reads the output of `duplicates --repo server/src` on stdin and checks it: at most MAX
pairs of places sharing six or more lines, and each pair named deliberate in a comment: a line containing
"duplicate:" within either place, the three lines above it, or the three lines above the declaration (table or
function) the place starts in (e.g. `/* duplicate: the settings table, one row a setting */`). Usage: duplicates.py SRC_DIR MAX — prints what fails and exits 1 when anything does."""
import re
import sys

ROW = re.compile(r'^D\d+\s+(\S+?):(\d+)-(\d+)\s+~\s+(\S+?):(\d+)-(\d+)')


def named(src, path, first, last):
    try:
        with open(f'{src}/{path}', encoding='utf-8') as f:
            lines = f.readlines()
    except OSError:
        return False
    if any('duplicate:' in line for line in lines[max(0, first - 4):last]):
        return True
    decl = first - 1  # the enclosing declaration: the nearest line above that starts in column 0 with code
    while decl > 0 and not re.match(r'[A-Za-z_]', lines[decl]):
        decl -= 1
    return any('duplicate:' in line for line in lines[max(0, decl - 3):decl + 1])


def main():
    src, most = sys.argv[1], int(sys.argv[2])
    problems, pairs = [], 0
    for line in sys.stdin:
        m = ROW.match(line)
        if m is None:
            if line.startswith('incomplete:'):
                problems.append(f'the scan did not finish: {line.strip()}')
            continue
        pairs += 1
        a, a1, a2, b, b1, b2 = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4), int(m.group(5)), int(m.group(6))
        if not (named(src, a, a1, a2) or named(src, b, b1, b2)):
            problems.append(f'{a}:{a1} ~ {b}:{b1}: no "duplicate:" comment names this pair deliberate')
    if pairs > most:
        problems.append(f'{pairs} pairs of places share six or more lines (at most {most})')
    for p in problems:
        print(p)
    print(f'{pairs} pairs', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
