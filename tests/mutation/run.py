#!/usr/bin/env python3
"""The mutation check: does the suite fail when a promise breaks?

Each mutant in tests/mutation/mutants.txt is a one-line change to the code
that breaks one promise the README (or an issue) makes. For each, this
script applies the change to a copy of the tree, rebuilds incrementally,
runs the tests that should notice, and reports the mutants nothing killed.
A mutant whose line is no longer in its file is reported as stale: the list
must follow the code, or it silently checks nothing.

    ./dev.sh mutants                 # every mutant, its own tests
    ./dev.sh mutants --full          # every mutant, the whole suite each time
    ./dev.sh mutants --only ID,ID    # some of them
    ./dev.sh mutants --list          # what there is
    ./dev.sh mutants --check         # is every mutant's line still in its file?

The copy lives in build-mutants/ (src/ and build/), so a second run only
recompiles what the mutants touch. Exit status: 0 when every mutant was
killed, 1 when one survived, was stale or did not build, 2 on usage errors.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIST = ROOT / "tests" / "mutation" / "mutants.txt"
WORK = ROOT / "build-mutants"
SRC = WORK / "src"
BUILD = WORK / "build"
FIELDS = ("id", "file", "find", "replace", "tests", "promise")


def parse_mutants(path):
    """Blocks of `field: value` lines separated by blank lines; `#` comments."""
    mutants, block = [], {}
    for number, raw in enumerate(path.read_text().splitlines() + [""], start=1):
        line = raw.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if block:
                missing = [f for f in FIELDS if f not in block]
                if missing:
                    sys.exit(f"mutants.txt:{number}: mutant {block.get('id', '?')} lacks {', '.join(missing)}")
                mutants.append(block)
                block = {}
            continue
        key, sep, value = line.partition(": ")
        if not sep and line.endswith(":"):
            key, value = line[:-1], ""
        elif not sep or key not in FIELDS:
            sys.exit(f"mutants.txt:{number}: expected one of {', '.join(FIELDS)} as 'field: value'")
        block[key] = value
    ids = [m["id"] for m in mutants]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        sys.exit(f"mutants.txt: duplicate ids: {', '.join(sorted(dupes))}")
    return mutants


def sync_tree():
    """Copies the tracked and new files of the work tree into SRC, touching
    only files whose bytes changed, so the build stays incremental."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    wanted = set()
    for rel in filter(None, listed):
        if rel.startswith("build"):
            continue
        src, dst = ROOT / rel, SRC / rel
        if not src.is_file():
            continue
        wanted.add(dst)
        if dst.is_file() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        # A fresh mtime, not the source's (copy2): the build must see the
        # file as newer than what it compiled from the old copy.
        shutil.copyfile(src, dst)
        shutil.copymode(src, dst)
    for dst in [p for p in SRC.rglob("*") if p.is_file()]:
        if dst not in wanted:
            dst.unlink()


def configure():
    if (BUILD / "build.ninja").exists():
        return
    # dev.sh's optimisation (-O2; g++ 12 warns falsely at -O3) without debug
    # info, which makes the relink after each mutant several times faster.
    # Warnings are not errors here: a mutant that leaves a variable unused
    # still breaks its promise, and must still be built to be judged.
    args = ["cmake", "-S", str(SRC), "-B", str(BUILD), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
            "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG", "-DCENTRALI_WERROR=OFF"]
    if shutil.which("ccache"):
        args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def build():
    r = subprocess.run(["cmake", "--build", str(BUILD), "-j", str(os.cpu_count() or 2)],
                       capture_output=True, text=True)
    return r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


def run_tests(selection, full):
    args = ["ctest", "--test-dir", str(BUILD), "--no-tests=error", "-j", str(os.cpu_count() or 2),
            "--timeout", "180", "--stop-on-failure"]
    if not full and selection != "all":
        args += ["-R", selection]
    r = subprocess.run(args, capture_output=True, text=True)
    # ctest's summary: "\t 12 - unit: name (Failed)".
    failed = [m.group(1) for m in re.finditer(r"^\s*\d+ - (.*) \((?:Failed|Timeout|SEGFAULT|Child aborted)\)$",
                                              r.stdout, re.MULTILINE)]
    if "No tests were found" in r.stdout + r.stderr:
        return None, [], r.stdout[-3000:]
    return r.returncode, failed, r.stdout[-3000:]


def main():
    parser = argparse.ArgumentParser(description="Apply each mutant, rebuild, run its tests, report survivors.")
    parser.add_argument("--only", help="comma-separated mutant ids")
    parser.add_argument("--full", action="store_true", help="run the whole suite for every mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--check", action="store_true", help="check every mutant's line is in its file, and exit")
    opts = parser.parse_args()

    mutants = parse_mutants(LIST)
    if opts.only:
        wanted = opts.only.split(",")
        unknown = [i for i in wanted if i not in {m["id"] for m in mutants}]
        if unknown:
            print(f"mutants: no mutant named {', '.join(unknown)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m["id"] in wanted]
    if opts.list:
        for m in mutants:
            print(f"{m['id']:<32} {m['file']}\n{'':<32} {m['promise']}")
        return 0

    if opts.check:
        stale = [m for m in mutants
                 if not (ROOT / m["file"]).is_file() or (ROOT / m["file"]).read_text().count(m["find"]) != 1]
        for m in stale:
            print(f"{m['id']}: STALE: its line is not exactly once in {m['file']}", file=sys.stderr)
        return 1 if stale else 0

    WORK.mkdir(exist_ok=True)
    sync_tree()
    configure()
    ok, log = build()
    if not ok:
        print(log, file=sys.stderr)
        print("mutants: the unmutated tree does not build", file=sys.stderr)
        return 1
    # The tests a mutant relies on must pass without it, or a "kill" means nothing.
    selection = "all" if opts.full else "|".join(f"({m['tests']})" for m in mutants if m["tests"] != "all") or "all"
    if any(m["tests"] == "all" for m in mutants):
        selection = "all"
    code, failed, out = run_tests(selection, opts.full)
    if code not in (0, None):  # once more: a loaded machine can fail a test once
        code, failed, out = run_tests(selection, opts.full)
    if code not in (0, None):
        print(out, file=sys.stderr)
        print(f"mutants: the unmutated tree fails {', '.join(failed) or 'its tests'}", file=sys.stderr)
        return 1

    results = []
    for m in mutants:
        path = SRC / m["file"]
        original = path.read_text() if path.is_file() else None
        started = time.monotonic()
        if original is None or original.count(m["find"]) != 1:
            count = 0 if original is None else original.count(m["find"])
            results.append((m, "STALE", f"the line occurs {count} times in {m['file']}", 0.0))
            print(f"{m['id']}: STALE", flush=True)
            continue
        path.write_text(original.replace(m["find"], m["replace"]))
        try:
            built, log = build()
            if not built:
                verdict, detail = "NO BUILD", log.strip().splitlines()[-1] if log.strip() else ""
            else:
                code, failed, _ = run_tests(m["tests"], opts.full)
                if code is None:
                    verdict, detail = "NO TESTS", f"no test matches '{m['tests']}'"
                else:
                    verdict = "killed" if code != 0 else "SURVIVED"
                    detail = ", ".join(failed[:3])
        finally:
            path.write_text(original)
        elapsed = time.monotonic() - started
        results.append((m, verdict, detail, elapsed))
        print(f"{m['id']}: {verdict} ({elapsed:.0f}s) {detail}", flush=True)
    build()  # leave the copy as the tree is

    print()
    print(f"{'mutant':<34} {'result':<9} promise / killed by")
    for m, verdict, detail, _ in results:
        print(f"{m['id']:<34} {verdict:<9} {m['promise']}")
        if detail:
            print(f"{'':<44} {detail}")
    bad = [r for r in results if r[1] != "killed"]
    print(f"\n{len(results) - len(bad)} of {len(results)} mutants killed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
