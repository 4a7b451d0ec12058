"""Icons, the .desktop entry, AppStream metadata, Windows version info and the installer sketch."""

from __future__ import annotations

import ast
import configparser
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING, ROOT, load_script, project_version

make_icons = load_script("make_icons")
ICONS = PACKAGING / "icons"
APP_ID = "org.kindly.Kindly"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# -- icons ----------------------------------------------------------------------------------


def test_the_svg_source_is_a_square_svg() -> None:
    root = ET.parse(ROOT / "resources" / "icons" / "kindly.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 512 512"


def test_generated_icons_match_the_svg() -> None:
    assert not make_icons.is_stale(), "run: .venv/bin/python packaging/make_icons.py"


@pytest.mark.parametrize("size", make_icons.LINUX_SIZES)
def test_linux_pngs(size: int) -> None:
    assert png_size((ICONS / f"kindly-{size}.png").read_bytes()) == (size, size)


def test_ico_holds_a_png_per_size() -> None:
    data = (ICONS / "kindly.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, len(make_icons.ICO_SIZES))
    sizes = []
    for i in range(count):
        w, h, _colours, _res, planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        side = w or 256
        assert (w, planes, bits) == (h, 1, 32)
        assert offset + length <= len(data)
        assert png_size(data[offset : offset + length]) == (side, side)
        sizes.append(side)
    assert sizes == sorted(make_icons.ICO_SIZES)


def test_icns_holds_the_retina_and_plain_sizes() -> None:
    data = (ICONS / "kindly.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    found: dict[bytes, int] = {}
    at = 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
        assert length > 8
        found[kind] = png_size(data[at + 8 : at + length])[0]
        at += length
    assert at == len(data)
    assert found == dict(make_icons.ICNS_TYPES)
    assert found[b"ic10"] == 1024


def test_ico_and_icns_writers_round_trip_small_input() -> None:
    fake = {16: PNG_SIGNATURE + b"\0\0\0\rIHDR" + struct.pack(">II", 16, 16) + b"rest"}
    ico = make_icons.ico_bytes(fake)
    assert struct.unpack("<HHH", ico[:6]) == (0, 1, 1)
    assert ico.endswith(fake[16])


# -- Linux ----------------------------------------------------------------------------------


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(PACKAGING / "linux" / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_has_the_required_keys() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Kindly"
    assert entry["Exec"] == "kindly"  # install.sh rewrites it to the installed path
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    assert entry["StartupWMClass"] == "Kindly"
    assert entry["Comment"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_desktop_entry_validates() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(PACKAGING / "linux" / f"{APP_ID}.desktop")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_metainfo_parses_with_the_right_id_and_release() -> None:
    root = ET.parse(PACKAGING / "linux" / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component"
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("name") == "Kindly"
    launchable = root.find("launchable")
    assert launchable is not None and launchable.text == f"{APP_ID}.desktop"
    assert root.findtext("provides/binary") == "kindly"
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") == project_version()


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_metainfo_validates() -> None:
    result = subprocess.run(
        [
            "appstreamcli",
            "validate",
            "--no-net",
            str(PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- Windows --------------------------------------------------------------------------------


def version_tuple() -> tuple[int, ...]:
    parts = tuple(int(p) for p in project_version().split("."))
    return (*parts, 0, 0, 0, 0)[:4]


def test_windows_version_info_matches_the_project_version() -> None:
    tree = ast.parse((PACKAGING / "windows" / "version_info.txt").read_text("utf-8"))
    keywords = {
        kw.arg: ast.literal_eval(kw.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg in {"filevers", "prodvers"}
    }
    assert keywords == {"filevers": version_tuple(), "prodvers": version_tuple()}
    strings = {
        node.args[0].value: node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "StringStruct"
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[1], ast.Constant)
    }
    assert strings["ProductVersion"] == project_version()
    assert strings["FileVersion"] == ".".join(map(str, version_tuple()))
    assert strings["OriginalFilename"] == "Kindly.exe"


def test_inno_setup_sketch_matches_the_version_and_the_bundle() -> None:
    text = (PACKAGING / "windows" / "kindly.iss").read_text("utf-8")
    assert f'#define MyAppVersion "{project_version()}"' in text
    assert r"..\..\dist\Kindly\*" in text
    assert r"..\icons\kindly.ico" in text
    assert "PrivilegesRequired=lowest" in text


def test_every_file_the_packaging_names_exists() -> None:
    for rel in [
        "icons/kindly.ico",
        "icons/kindly.icns",
        "windows/version_info.txt",
        f"linux/{APP_ID}.desktop",
        f"linux/{APP_ID}.metainfo.xml",
        "linux/install.sh",
        "linux/README.txt",
        "README.md",
    ]:
        assert (PACKAGING / rel).is_file(), rel
    assert Path(PACKAGING / "linux" / "install.sh").stat().st_mode & 0o111
