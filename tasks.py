#!/usr/bin/env python3
"""Kindly's self-bootstrapping task runner: needs only Python 3.11+ and git.

    python3 tasks.py run [ARGS]     set up .venv if needed, then start Kindly
    python3 tasks.py test [ARGS]    set up .venv if needed, then run the whole test suite
    python3 tasks.py lint           ruff, mypy (strict on app/core and app/storage), import layering
    python3 tasks.py bench [NAME]   run the benchmarks in bench/ (see bench/README.md)
    python3 tasks.py build          build the PyInstaller bundle (see packaging/)
    python3 tasks.py lock           re-resolve requirements.lock from pyproject.toml

The virtual environment is rebuilt only when pyproject.toml or requirements.lock change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".kindly-installed"
MIN_PYTHON = (3, 11)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def wanted_stamp() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.lock"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> Path:
    """Create .venv and install the locked dependencies unless already done."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"Kindly needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; "
            f"this is {sys.version.split()[0]}."
        )
    python = venv_python()
    stamp = wanted_stamp()
    if python.exists() and STAMP.exists() and STAMP.read_text() == stamp:
        return python
    if not python.exists():
        print("tasks: creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    print("tasks: installing the locked dependencies (first run takes a minute) …", flush=True)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "--quiet", "-r", str(LOCK)], check=True)
    STAMP.write_text(stamp)
    return python


def run(python: Path, *args: str) -> int:
    return subprocess.call([str(python), *args], cwd=ROOT)


def cmd_run(args: list[str]) -> int:
    return run(ensure_venv(), "main.py", *args)


def cmd_test(args: list[str]) -> int:
    python = ensure_venv()
    return run(python, "-m", "pytest", *args)


def cmd_lint(args: list[str]) -> int:
    python = ensure_venv()
    failed = 0
    failed |= run(python, "-m", "ruff", "check", ".")
    failed |= run(python, "-m", "ruff", "format", "--check", ".")
    failed |= run(python, "-m", "mypy")
    failed |= run(python, "tests/tools/check_layers.py")
    return 1 if failed else 0


def cmd_bench(args: list[str]) -> int:
    return run(ensure_venv(), "bench/run_all.py", *args)


def cmd_build(args: list[str]) -> int:
    return run(ensure_venv(), "packaging/build.py", *args)


def cmd_lock(args: list[str]) -> int:
    python = ensure_venv()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "uv"], check=True)
    return run(
        python,
        "-m",
        "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "dev",
        "--extra",
        "build",
        "--universal",
        "--python-version",
        "3.11",
        "-o",
        str(LOCK.name),
        *args,
    )


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "lint": cmd_lint,
    "bench": cmd_bench,
    "build": cmd_build,
    "lock": cmd_lock,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
