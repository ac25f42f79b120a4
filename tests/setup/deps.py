#!/usr/bin/env python3
"""tests/setup/deps.py — every program and interpreter module the project runs comes from server/setup.sh's install list.

A fresh Debian 12 machine has only what `debootstrap --variant=minbase` puts there (the packages of priority
`required`, plus apt). Everything else a layer runs must be installed by `klima_install_deps`, or a user's first
`server/run` / `tests/run` fails where a prepared machine passes. This check reads the tracked files and lists:

- external commands of the shell scripts (the first word of each simple command: after a line start, `|`, `||`,
  `&&`, `;`, `$(`, `!`, `then`, `do`, `else`, `exec`, `sudo`, `timeout N`, `env VAR=...`, ...), skipping builtins,
  keywords, the scripts' own functions and variables;
- programs the Node and Python test code spawns (`spawn('x'`, `spawnSync('x'`, `execFileSync('x'`,
  `path.join(PG_BIN, 'x')`, `subprocess.run(["x"`);
- Python modules imported by tracked .py files and by `python3 -c "import ..."` strings; Perl modules `use`d by .pl;
- PostgreSQL extensions created by tracked .sql files and scripts (`CREATE EXTENSION [IF NOT EXISTS] name`: its control
  file in PostgreSQL 15's extension folder, e.g. pg_partman <- postgresql-15-partman).

Each is resolved on this machine (command -v, the module's file) to the Debian package that owns it (dpkg -S), and the
package must be in the dependency closure of KLIMA_DEB_PACKAGES (apt-cache depends --recurse, Depends and
Pre-Depends only: recommends are not installed) or of priority required. Prints TAP; exit 1 on any failure.

Self-check: KLIMA_DEPS_DROP="pkg ..." removes packages from the list first, so `KLIMA_DEPS_DROP=python3-yaml` must
fail (tests/run runs that too, so the check is shown able to fail).
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SHELL_SKIP = set("""
if then else elif fi for in do done while until case esac function select time coproc
local export readonly declare typeset set unset shift return exit source . trap wait cd pushd popd echo printf read
test [ [[ ]] eval exec continue break shopt command builtin true false kill type hash let alias getopts umask ulimit
mapfile readarray compgen complete printf jobs fg bg disown caller enable help history logout suspend times dirs
""".split())

# Words that are prefixes: the command is the next word (after options/assignments).
PREFIXES = {"sudo", "exec", "env", "timeout", "nice", "setsid", "runuser", "command", "time", "nohup", "xargs",
            "klima_as_root", "klima_as_pg"}


def tracked():
    out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    return [f for f in out if "/vendor/" not in f and "node_modules/" not in f]


def read(rel):
    try:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            return f.read()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return ""


def is_shell(rel, text):
    return rel.endswith(".sh") or re.match(r"#!\S*(/bash|/sh|env bash|env sh)\b", text) is not None


def strip_heredocs(lines):
    """Drops the bodies of here-documents (their text is data, not commands)."""
    out, end = [], None
    for line in lines:
        if end is not None:
            if line.strip() == end:
                end = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if m and "<<<" not in line:
            end = m.group(1)
        out.append(line)
    return out


def blank_data(text):
    """Shell text with comments and the contents of quoted strings blanked out, keeping the commands inside $(...)
    (also inside double quotes). Newlines are kept, so line structure survives."""
    out, i, n = [], 0, len(text)
    # modes: N (code; depth counts the parentheses of a $( ), A (the words of an array literal: data, but quotes and
    # $( ) inside it as in code), D (inside double quotes)
    stack = [["N", 0]]
    while i < n:
        c, mode = text[i], stack[-1][0]
        if mode in ("N", "A"):
            if c == "\\":
                out.append("  ")
                i += 2
                continue
            if c == "'":
                j = text.find("'", i + 1)
                j = n if j < 0 else j
                out.append(" Q" + "\n" * text.count("\n", i, j))
                i = j + 1
                continue
            if c == '"':
                stack.append(["D", 0])
                out.append(" Q")
            elif c == "#" and (i == 0 or text[i - 1] in " \t\n;(|&"):
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            elif (c == "$" and text.startswith("$((", i)) or text.startswith("((", i):
                # arithmetic: not commands
                j = text.find("))", i)
                j = n if j < 0 else j
                out.append(" Q ")
                i = j + 2
                continue
            elif c == "=" and text.startswith("=(", i):
                # an array assignment: its words are data (but a $(...) in it runs)
                stack.append(["A", 1])
                out.append("=Q ")
                i += 2
                continue
            elif c == "$" and text.startswith("$(", i):
                stack.append(["N", 1])
                out.append(" ; ")
                i += 2
                continue
            elif c == "(" and len(stack) > 1:
                stack[-1][1] += 1
                out.append(c)
            elif c == ")" and len(stack) > 1 and stack[-1][1] > 0:
                stack[-1][1] -= 1
                if stack[-1][1] == 0:
                    # the end of a $( ) separates commands; the end of an array literal does not
                    out.append(" ; " if stack.pop()[0] == "N" else " Q ")
                else:
                    out.append(c)
            else:
                out.append(c if mode == "N" or c == "\n" else " ")
            i += 1
        else:  # inside double quotes
            if c == "\\":
                out.append("  ")
                i += 2
            elif c == '"':
                stack.pop()
                out.append(" ")
                i += 1
            elif text.startswith("$((", i):
                j = text.find("))", i)
                i = n if j < 0 else j + 2
            elif text.startswith("$(", i):
                stack.append(["N", 1])
                out.append(" ; ")
                i += 2
            else:
                out.append("\n" if c == "\n" else " ")
                i += 1
    return "".join(out)


def shell_commands(text, funcs):
    found = set()
    code = blank_data("\n".join(strip_heredocs(text.splitlines())))
    for line in code.splitlines():
        line = re.sub(r"^\s*[\w*.|-]+\)", " ", line)  # a case pattern
        for seg in re.split(r"\|\||&&|[|;&]|\bthen\b|\bdo\b|\belse\b|\(|\{|\}|\)", line):
            words = seg.strip().split()
            while words:
                w = words[0]
                if re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=", w) or w.startswith("-") or w in ("!", "]]") \
                        or re.match(r"^\d+[a-z]?$", w):
                    words.pop(0)
                    continue
                if w in PREFIXES:
                    if w not in SHELL_SKIP and w not in funcs:
                        found.add(w)  # sudo, timeout, setsid, runuser ... are programs too
                    words.pop(0)
                    continue
                break
            if not words:
                continue
            w = words[0]
            if w in SHELL_SKIP or w in funcs or not re.match(r"^[a-z][a-z0-9_.+-]*$", w) or w.endswith(")"):
                continue
            found.add(w)
    return found


def spawned_programs(text):
    found = set()
    for pat in (r"\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*['\"]([A-Za-z0-9_./+-]+)['\"]",
                r"path\.join\(\s*PG_BIN\s*,\s*['\"]([a-z_]+)['\"]",
                r"subprocess\.(?:run|Popen|check_call|check_output)\(\s*\[\s*['\"]([A-Za-z0-9_./+-]+)['\"]",
                r"executablePath\s*:\s*['\"]([A-Za-z0-9_./+-]+)['\"]",  # the browser Playwright drives
                r"\$\{[A-Z_]+:-(/usr/bin/[a-z0-9_.+-]+)\}",  # a program's default path in a shell setting
                r"CMAKE_C_COMPILER=([a-z0-9_.+-]+)"):
        found.update(re.findall(pat, text))
    return {os.path.basename(p) for p in found if not p.startswith(".")}


def python_modules(rel, text):
    mods = set()
    if rel.endswith(".py"):
        for m in re.finditer(r"^\s*(?:import\s+([\w., ]+)|from\s+(\w[\w.]*)\s+import)", text, re.M):
            names = m.group(1) or m.group(2)
            for n in names.split(","):
                n = n.strip().split(" as ")[0].split(".")[0]
                if n:
                    mods.add(n)
    for m in re.finditer(r"python3?['\"]?\s*,?\s*\[?\s*['\"]-c['\"]\s*,\s*['\"]([^'\"]*)['\"]|python3? -c ['\"]([^'\"]*)['\"]", text):
        code = m.group(1) or m.group(2) or ""
        for n in re.findall(r"import\s+([\w, ]+)", code):
            mods.update(x.strip() for x in n.split(",") if x.strip())
    return mods


def perl_modules(text):
    return {m for m in re.findall(r"^\s*use\s+([A-Z][\w:]*)", text, re.M)}


def sh(args):
    return subprocess.run(args, capture_output=True, text=True)


_OWNERS = None


def owner(path):
    """The Debian package owning path (trying its real path and the /usr-merged twin too), or None."""
    global _OWNERS
    if _OWNERS is None:
        _OWNERS = {}
        info = "/var/lib/dpkg/info"
        for f in os.listdir(info):
            if f.endswith(".list"):
                pkg = f[:-5].split(":")[0]
                with open(os.path.join(info, f), encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        _OWNERS.setdefault(line.rstrip("\n"), pkg)
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        cands.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for p in cands:
        if p in _OWNERS:
            return _OWNERS[p]
    return None


def install_list():
    r = sh(["bash", "-c", f"source '{ROOT}/server/setup.sh'; printf '%s\\n' \"${{KLIMA_DEB_PACKAGES[@]}}\""])
    pkgs = [p for p in r.stdout.split() if p]
    drop = set(os.environ.get("KLIMA_DEPS_DROP", "").split())
    return [p for p in pkgs if p not in drop]


def closure(pkgs):
    r = sh(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks",
            "--no-replaces", "--no-enhances", *pkgs])
    out = set(pkgs)
    for line in r.stdout.splitlines():
        if line and not line.startswith(" ") and not line.startswith("<"):
            out.add(line.strip().split(":")[0])
    return out


def required():
    r = sh(["dpkg-query", "-W", "-f", "${Package} ${Priority} ${Essential}\n"])
    out = {"apt"}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and (parts[1] == "required" or (len(parts) > 2 and parts[2] == "yes")):
            out.add(parts[0])
    return out


# Programs a script calls only in a situation where the user must have provided them already.
PRECONDITIONS = {
    "sudo": "used only when not run as root: a non-root user needs sudo to install anything",
    "git": "the project is a git checkout: whoever cloned it has git",
    "duplicates": "optional: tests/checks/run.sh runs the duplicate-code check where this development tool is "
                  "installed and reports it as SKIP elsewhere",
    "systemd-analyze": "optional: tests/checks/run.sh verifies the systemd units of server/ where systemd is installed "
                       "(every systemd machine the units are for has it) and reports it as SKIP elsewhere",
}

# The programs a user's machine runs are Debian's: resolve them on the system PATH (not a pyenv or nvm shim that may sit
# first on a developer's PATH and hide a missing Debian package).
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SYSTEM_PYTHON = "/usr/bin/python3"
PG_BIN = "/usr/lib/postgresql/15/bin"  # the scripts and the harness call PostgreSQL's server programs by this path
PG_EXTENSIONS = "/usr/share/postgresql/15/extension"


def pg_extensions(text):
    """The extensions a file creates: CREATE EXTENSION [IF NOT EXISTS] name (quoted or not, any case)."""
    return re.findall(r'\bCREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([A-Za-z_][A-Za-z0-9_]*)"?', text, re.I)


def main():
    files = tracked()
    commands, modules, perl, extensions = {}, {}, {}, {}
    local_py = {os.path.splitext(os.path.basename(f))[0] for f in files if f.endswith(".py")}
    local_py |= {os.path.basename(os.path.dirname(f)) for f in files if f.endswith("/__init__.py")}
    shell = {rel: text for rel, text in ((r, read(r)) for r in files) if text and is_shell(rel, text)}
    funcs = set()
    for text in shell.values():
        funcs |= set(re.findall(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))
    for rel in files:
        text = read(rel)
        if not text or rel == "tests/setup/deps.py":  # its own docstring and patterns are not calls
            continue
        if rel in shell:
            for c in shell_commands(text, funcs):
                commands.setdefault(c, rel)
        if rel.endswith((".mjs", ".js", ".py")) or rel in shell:
            for c in spawned_programs(text):
                commands.setdefault(c, rel)
        if rel.endswith((".py", ".mjs", ".js", ".sh")) or is_shell(rel, text) or "CMakeLists" in rel:
            for m in python_modules(rel, text):
                if m not in local_py:
                    modules.setdefault(m, rel)
        if rel.endswith(".sql") or rel in shell:
            for e in pg_extensions(text):
                extensions.setdefault(e, rel)
        if rel.endswith(".pl"):
            for m in perl_modules(text):
                if m not in ("strict", "warnings", "utf8"):
                    perl.setdefault(m, rel)
    # the interpreters themselves
    commands.setdefault("python3", "api-spec/embed.py")
    commands.setdefault("node", "tests/integration")
    commands.setdefault("perl", "tests/fixtures/geoip/make-mmdb.pl")

    pkgs = install_list()
    allowed = closure(pkgs) | required()
    results = []  # (ok, description)

    for c in sorted(commands):
        if c in PRECONDITIONS:
            results.append((True, f"command {c}: not installed by the set-up ({PRECONDITIONS[c]})"))
            continue
        path = shutil.which(c, path=SYSTEM_PATH + ":" + PG_BIN)
        if path is None:
            # a word in command position that is neither installed nor ours: report it, it may be a missing package
            results.append((False, f"command {c} (used in {commands[c]}) is not installed"))
            continue
        pkg = owner(path)
        if pkg is None:
            results.append((False, f"command {c} ({path}, used in {commands[c]}) belongs to no Debian package"))
        elif pkg not in allowed:
            results.append((False, f"command {c} ({path}, used in {commands[c]}) comes from {pkg}, not installed by server/setup.sh"))
        else:
            results.append((True, f"command {c} <- {pkg}"))

    for m in sorted(modules):
        if not os.access(SYSTEM_PYTHON, os.X_OK):
            results.append((False, f"python module {m} (used in {modules[m]}): {SYSTEM_PYTHON} is not installed"))
            continue
        r = sh([SYSTEM_PYTHON, "-c", f"import importlib.util,sys; s=importlib.util.find_spec({m!r}); "
                f"print(s.origin if s and s.origin else ('built-in' if s else ''))"])
        origin = r.stdout.strip()
        if not origin:
            results.append((False, f"python module {m} (used in {modules[m]}) is not installed"))
            continue
        if origin in ("built-in", "frozen"):
            results.append((True, f"python module {m} <- built into python3"))
            continue
        pkg = owner(origin)
        if pkg is None or pkg not in allowed:
            results.append((False, f"python module {m} ({origin}, used in {modules[m]}) comes from {pkg or 'no Debian package'}, "
                                   "not installed by server/setup.sh"))
        else:
            results.append((True, f"python module {m} <- {pkg}"))

    for m in sorted(perl):
        rel = m.replace("::", "/") + ".pm"
        r = sh(["perl", f"-M{m}", "-e", f"print $INC{{'{rel}'}}"])
        origin = r.stdout.strip()
        pkg = owner(origin) if origin else None
        if pkg is None or pkg not in allowed:
            results.append((False, f"perl module {m} (used in {perl[m]}) comes from {pkg or 'nowhere (not installed)'}, "
                                   "not installed by server/setup.sh"))
        else:
            results.append((True, f"perl module {m} <- {pkg}"))

    for e in sorted(extensions):
        control = os.path.join(PG_EXTENSIONS, e + ".control")
        pkg = owner(control) if os.path.exists(control) else None
        if pkg is None or pkg not in allowed:
            results.append((False, f"PostgreSQL extension {e} (created in {extensions[e]}) comes from "
                                   f"{pkg or 'nowhere (no ' + control + ')'}, not installed by server/setup.sh"))
        else:
            results.append((True, f"PostgreSQL extension {e} <- {pkg}"))

    print(f"1..{len(results)}")
    failed = 0
    for i, (ok, desc) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {desc}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
