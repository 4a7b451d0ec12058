#!/usr/bin/env python3
"""Run Kindly's benchmarks: ``python3 tasks.py bench [NAME …]`` (all of them without a name).

Installs the benchmark-only tools (``bench/requirements.txt``) into the running interpreter's
environment (Kindly's ``.venv``) on first use, makes the 1M-mention database if it is missing,
then runs each script in its own process with a 10-minute limit. Every script prints its table
and writes its section of ``bench/RESULTS.md``. Exit code 0 when every target was met.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LIMIT_S = 600  # each script must finish in under 10 minutes on a 2-core machine

SCRIPTS = {
    "generate": "generate_db.py",
    "ingest": "bench_ingest.py",
    "inbox": "bench_inbox.py",
    "search": "bench_search.py",
    "startup": "bench_startup.py",
    "sending": "bench_sending.py",
}
NEEDS_DATABASES = {"inbox", "search", "startup"}


def missing_tools() -> list[str]:
    missing = []
    for line in (BENCH / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, wanted = line.partition("==")
        try:
            have = metadata.version(name.strip())
        except metadata.PackageNotFoundError:
            missing.append(line)
            continue
        if wanted and have != wanted.strip():
            missing.append(line)
    return missing


def ensure_tools() -> None:
    missing = missing_tools()
    if not missing:
        return
    print(f"bench: installing {', '.join(missing)} into {sys.prefix} …", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(BENCH / "requirements.txt"),
        ],
        check=True,
    )


def run_script(name: str, extra: list[str]) -> tuple[int, float]:
    module = "bench." + SCRIPTS[name].removesuffix(".py")
    print(f"\n=== bench {name}: python -m {module} " + "=" * max(0, 50 - len(name)), flush=True)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    started = time.perf_counter()
    try:
        code = subprocess.run(
            [sys.executable, "-m", module, *extra], cwd=ROOT, env=env, timeout=LIMIT_S
        ).returncode
    except subprocess.TimeoutExpired:
        print(f"bench {name}: did not finish within {LIMIT_S} s", flush=True)
        code = 124
    return code, time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tasks.py bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(SCRIPTS)} (default: all)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the databases first")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SCRIPTS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    ensure_tools()
    names = args.names or [n for n in SCRIPTS if n != "generate"]
    sys.path.insert(0, str(ROOT))
    from bench.common import BIG_DB, SMALL_DB

    results: dict[str, tuple[int, float]] = {}
    wants_db = args.regenerate or any(n in NEEDS_DATABASES for n in names)
    if "generate" not in names and wants_db:
        for path, size in ((BIG_DB, "1000000"), (SMALL_DB, "200000")):
            if args.regenerate or not path.exists():
                code, took = run_script("generate", ["--mentions", size, "--out", str(path)])
                results[f"generate {size}"] = (code, took)
                if code:
                    print("bench: the database could not be generated; stopping", flush=True)
                    return code
    for name in names:
        results[name] = run_script(name, [])
    print("\nbench summary")
    for name, (code, took) in results.items():
        state = {0: "all targets met", 124: "TIMED OUT"}.get(code, "a target missed or an error")
        print(f"  {name:<18} {took:6.0f} s  {state}")
    return 0 if all(code == 0 for code, _ in results.values()) else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
