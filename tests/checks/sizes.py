#!/usr/bin/env python3
"""tests/checks/sizes.py — no file of server/src longer than 600 lines and no function longer than 80 lines. A
function is what clang-format (BreakBeforeBraces: Linux) lays out as a signature and a `{` alone at the start of a
line; its length counts from the signature's first line to its closing `}`. Usage: sizes.py [SRC_DIR] [MAX_FILE]
[MAX_FUNCTION] — prints FILE:LINE: message for each one too long and exits 1 when there is any."""
import os
import sys


def functions(lines):
    """(name line index, first line index, last line index) of each function body."""
    out = []
    i = 0
    while i < len(lines):
        if lines[i].rstrip('\n') == '{':
            # the signature: the lines above up to a blank line, a comment end, a `}` or a preprocessor line
            start = i - 1
            while start > 0:
                prev = lines[start - 1].rstrip('\n')
                if prev == '' or prev.startswith(('}', '#', '/*', ' *', '*/')) or prev.endswith(('*/', ';', '}')):
                    break
                start -= 1
            end = i + 1
            while end < len(lines) and lines[end].rstrip('\n') != '}':
                end += 1
            out.append((start, start, end))
            i = end
        i += 1
    return out


def check(src, max_file, max_function):
    problems = []
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            with open(path, encoding='utf-8') as f:
                lines = f.readlines()
            if len(lines) > max_file:
                problems.append(f'{rel}:1: {len(lines)} lines (at most {max_file})')
            for sig, start, end in functions(lines):
                n = end - start + 1
                if n > max_function:
                    head = lines[sig].strip()
                    problems.append(f'{rel}:{sig + 1}: function of {n} lines (at most {max_function}): {head[:80]}')
    return problems


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../../server/src')
    max_file = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    max_function = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    problems = check(src, max_file, max_function)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
