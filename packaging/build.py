#!/usr/bin/env python3
"""Build Kindly's one-folder bundle with PyInstaller, and on Linux the tarball to hand out.

    python3 tasks.py build                  dist/Kindly/, on Linux also the tarball
                                            dist/Kindly-<version>-linux-x86_64.tar.gz
    python3 tasks.py build --compare        also a bare PySide6 window built the same way
    python3 tasks.py build --measure-start  also time the frozen app's start (offscreen)
    python3 tasks.py build --no-tarball     the bundle only

Then check it:  dist/Kindly/kindly --self-test   (under packaging/ci-with-keyring.sh in CI)

Steps: regenerate packaging/icons/ if the SVG changed, run PyInstaller on packaging/kindly.spec
(work files in build/pyinstaller/), report what the bundle expects from the system, and pack
the tarball (the bundle, the .desktop file, icons, AppStream metadata and install.sh).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
APP_NAME = "Kindly"
APP_ID = "org.kindly.Kindly"

sys.path.insert(0, str(PACKAGING))
import make_icons  # noqa: E402


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"])


def executable_name() -> str:
    if sys.platform == "win32":
        return "Kindly.exe"
    return "kindly" if sys.platform.startswith("linux") else "Kindly"


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``, symbolic links counted as links."""
    total = files = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(dirpath, name)).st_size
            files += 1
    return total, files


def shown(path: Path) -> str:
    """``path`` relative to the project when inside it, for short messages."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def pyinstaller(spec: Path, dist: Path, work: Path) -> float:
    """Run PyInstaller on ``spec``; returns the seconds it took."""
    started = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(spec),
    ]
    print("build: " + " ".join(command[2:]), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    return time.perf_counter() - started


def ensure_icons() -> None:
    if make_icons.is_stale():
        print("build: resources/icons/kindly.svg changed: regenerating packaging/icons/")
        make_icons.main([])


def system_libraries(bundle: Path) -> tuple[list[str], list[str]]:
    """Linux: (libraries the bundle takes from the system, bundled ones missing = our bug).

    Runs ldd on every shared object with the bundle's own folders first on the search path.
    """
    internal = bundle / "_internal"
    bundled_names = {p.name for p in internal.rglob("*.so*")}
    from_system: set[str] = set()
    broken: set[str] = set()
    for path in sorted(internal.rglob("*.so*")):
        if path.is_symlink():
            continue
        result = subprocess.run(
            ["ldd", str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "LD_LIBRARY_PATH": str(internal)},
            check=False,
        )
        for line in result.stdout.splitlines():
            name, _, where = line.strip().partition(" => ")
            if not where:
                continue
            if "not found" in where:
                ours = name.startswith(("libQt6", "libicu", "libpyside6", "libshiboken6"))
                (broken if ours else from_system).add(name)
            elif not where.startswith(str(internal)) and name not in bundled_names:
                from_system.add(name)
    return sorted(from_system), sorted(broken)


def make_tarball(bundle: Path) -> Path:
    """dist/Kindly-<version>-linux-<arch>.tar.gz: the bundle plus desktop integration files."""
    top = f"{APP_NAME}-{version()}-linux-{platform.machine()}"
    target = DIST / f"{top}.tar.gz"
    linux = PACKAGING / "linux"
    extras: list[tuple[Path, str]] = [
        (linux / "install.sh", "install.sh"),
        (linux / "README.txt", "README.txt"),
        (linux / f"{APP_ID}.desktop", f"share/applications/{APP_ID}.desktop"),
        (linux / f"{APP_ID}.metainfo.xml", f"share/metainfo/{APP_ID}.metainfo.xml"),
        (
            ROOT / "resources" / "icons" / "kindly.svg",
            f"share/icons/hicolor/scalable/apps/{APP_ID}.svg",
        ),
    ]
    for size in make_icons.LINUX_SIZES:
        extras.append(
            (
                PACKAGING / "icons" / f"kindly-{size}.png",
                f"share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png",
            )
        )

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    print(f"build: packing {shown(target)} …", flush=True)
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=clean)  # symbolic links stay links
        for source, name in extras:
            tar.add(source, arcname=f"{top}/{name}", filter=clean)
    return target


def measure_start(executable: Path, args: list[str], runs: int) -> tuple[float, float]:
    """(first run, median of the next ``runs``) seconds until the window has painted."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    times = []
    with tempfile.TemporaryDirectory(prefix="kindly-start-") as data:
        for _ in range(runs + 1):
            started = time.perf_counter()
            subprocess.run(
                [str(executable), *args, "--data-dir", data]
                if executable.name.startswith("kindly")
                else [str(executable), *args],
                env=env,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
    return times[0], statistics.median(times[1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build Kindly's PyInstaller bundle.")
    parser.add_argument("--compare", action="store_true", help="also build the hello window")
    parser.add_argument("--measure-start", action="store_true", help="time the frozen start")
    parser.add_argument("--no-tarball", action="store_true", help="skip the Linux tarball")
    args = parser.parse_args(argv)

    ensure_icons()
    bundle = DIST / APP_NAME
    seconds = pyinstaller(PACKAGING / "kindly.spec", DIST, BUILD / "pyinstaller")
    size, files = folder_size(bundle)
    executable = bundle / executable_name()
    lines = [
        f"build time          {seconds:.1f} s",
        f"Kindly bundle       {mib(size)} in {files} files ({shown(bundle)})",
    ]
    status = 0
    if sys.platform.startswith("linux"):
        from_system, broken = system_libraries(bundle)
        print("build: the bundle takes these from the system: " + ", ".join(from_system))
        if broken:
            print(
                "build: ERROR, bundled Qt pieces link to left-out libraries: " + ", ".join(broken)
            )
            status = 1
        if not args.no_tarball:
            tarball = make_tarball(bundle)
            lines.append(f"tarball             {mib(tarball.stat().st_size)} ({shown(tarball)})")
    if args.compare:
        hello_dist = BUILD / "compare" / "dist"
        hello_seconds = pyinstaller(
            PACKAGING / "hello_window.spec", hello_dist, BUILD / "compare" / "work"
        )
        hello_size, hello_files = folder_size(hello_dist / "HelloWindow")
        lines += [
            f"hello-window bundle {mib(hello_size)} in {hello_files} files "
            f"(built in {hello_seconds:.1f} s)",
            f"ratio               {size / hello_size:.2f} × the bare PySide6 window "
            f"(+{mib(size - hello_size)})",
        ]
    if args.measure_start:
        first, warm = measure_start(executable, ["--demo", "--exit-after-paint", "--no-welcome"], 5)
        lines.append(
            f"frozen start        {warm:.2f} s to first paint "
            f"(median of 5; the first run, {first:.2f} s, also builds the demo)"
        )
        if args.compare:
            hello = (
                BUILD
                / "compare"
                / "dist"
                / "HelloWindow"
                / ("hello_window.exe" if sys.platform == "win32" else "hello_window")
            )
            _first, hello_warm = measure_start(hello, ["--exit-after-paint"], 5)
            lines.append(f"hello-window start  {hello_warm:.2f} s (median of 5)")
    print(
        "\n".join(
            ["", f"== Kindly {version()} build ({platform.system()} {platform.machine()})", *lines]
        )
    )
    print(f"\nCheck it: {shown(executable)} --self-test")
    return status


if __name__ == "__main__":
    sys.exit(main())
