"""build.py's pieces that need no PyInstaller run: the tarball layout, sizes, the shell scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING, ROOT, load_script, project_version

build = load_script("build")


def fake_bundle(folder: Path) -> Path:
    bundle = folder / "Kindly"
    internal = bundle / "_internal" / "PySide6" / "Qt" / "lib"
    internal.mkdir(parents=True)
    (internal / "libQt6Core.so.6").write_bytes(b"\x7fELF fake")
    (bundle / "_internal" / "libQt6Core.so.6").symlink_to("PySide6/Qt/lib/libQt6Core.so.6")
    exe = bundle / "kindly"
    exe.write_text("#!/bin/sh\necho kindly\n")
    exe.chmod(0o755)
    return bundle


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the tarball is for Linux")
def test_tarball_holds_the_bundle_and_desktop_integration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "DIST", tmp_path)
    target = build.make_tarball(fake_bundle(tmp_path))
    top = f"Kindly-{project_version()}-linux-{os.uname().machine}"
    assert target == tmp_path / f"{top}.tar.gz"
    with tarfile.open(target) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members[f"{top}/kindly"].mode & 0o111
    assert members[f"{top}/install.sh"].mode & 0o111
    link = members[f"{top}/_internal/libQt6Core.so.6"]
    assert link.issym() and link.linkname == "PySide6/Qt/lib/libQt6Core.so.6"
    for name in [
        "README.txt",
        "share/applications/org.kindly.Kindly.desktop",
        "share/metainfo/org.kindly.Kindly.metainfo.xml",
        "share/icons/hicolor/scalable/apps/org.kindly.Kindly.svg",
        "share/icons/hicolor/16x16/apps/org.kindly.Kindly.png",
        "share/icons/hicolor/512x512/apps/org.kindly.Kindly.png",
    ]:
        assert f"{top}/{name}" in members, name
    assert {m.uname for m in members.values()} == {"root"}


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_install_script_installs_and_uninstalls_for_one_user(tmp_path: Path) -> None:
    unpacked = tmp_path / "Kindly-x"
    shutil.copytree(fake_bundle(tmp_path / "b"), unpacked, symlinks=True)
    shutil.copy(PACKAGING / "linux" / "install.sh", unpacked)
    share = unpacked / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy(PACKAGING / "linux" / "org.kindly.Kindly.desktop", share / "applications")
    (share / "metainfo").mkdir()
    shutil.copy(PACKAGING / "linux" / "org.kindly.Kindly.metainfo.xml", share / "metainfo")
    icon = share / "icons" / "hicolor" / "16x16" / "apps"
    icon.mkdir(parents=True)
    shutil.copy(PACKAGING / "icons" / "kindly-16.png", icon / "org.kindly.Kindly.png")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    subprocess.run(["sh", str(unpacked / "install.sh")], env=env, check=True, capture_output=True)
    installed = home / ".local" / "opt" / "kindly"
    assert (installed / "kindly").stat().st_mode & 0o111
    assert (installed / "_internal" / "libQt6Core.so.6").is_symlink()
    desktop = home / ".local/share/applications/org.kindly.Kindly.desktop"
    assert f'Exec="{installed}/kindly"' in desktop.read_text()
    assert (home / ".local/share/icons/hicolor/16x16/apps/org.kindly.Kindly.png").is_file()
    assert (home / ".local/bin/kindly").resolve() == (installed / "kindly").resolve()
    subprocess.run(
        ["sh", str(unpacked / "install.sh"), "--uninstall"],
        env=env,
        check=True,
        capture_output=True,
    )
    assert not installed.exists() and not desktop.exists()


def test_folder_size_counts_links_as_links(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path)
    size, files = build.folder_size(bundle)
    assert files == 3
    assert size < 100


def test_scripts_parse() -> None:
    for script in ["linux/install.sh", "ci-with-keyring.sh"]:
        subprocess.run(["sh", "-n", str(PACKAGING / script)], check=True)
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "build.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--compare" in result.stdout


def test_ci_builds_the_bundle_and_runs_its_self_test_after_tests_and_lint() -> None:
    text = (ROOT / ".ci" / "run").read_text("utf-8")
    build_at = text.index("python3 tasks.py build")
    assert text.index("python3 tasks.py test") < build_at
    assert text.index("python3 tasks.py lint") < build_at
    assert "packaging/ci-with-keyring.sh dist/Kindly/kindly --self-test" in text[build_at:]
