#!/usr/bin/env python3
"""Render resources/icons/kindly.svg into every icon format the installers need.

    .venv/bin/python packaging/make_icons.py          regenerate packaging/icons/
    .venv/bin/python packaging/make_icons.py --check  exit 1 if they are stale

Qt draws the PNGs (QSvgRenderer into a QImage); the Windows .ico and macOS .icns containers
are written here, both holding those PNGs as they are (both formats accept embedded PNG).
Output (committed, about 130 KB): packaging/icons/kindly-<N>.png for the Linux hicolor theme,
kindly.ico, kindly.icns, and SOURCE.sha256, the hash of the SVG they were made from.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "icons" / "kindly.svg"
OUT = ROOT / "packaging" / "icons"
STAMP = OUT / "SOURCE.sha256"

LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512]
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
# ICNS element types that hold PNG data, with their pixel size (the @2x ones are for Retina).
ICNS_TYPES: list[tuple[bytes, int]] = [
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),  # 16@2x
    (b"icp6", 64),
    (b"ic12", 64),  # 32@2x
    (b"ic07", 128),
    (b"ic13", 256),  # 128@2x
    (b"ic08", 256),
    (b"ic14", 512),  # 256@2x
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
]


def source_hash() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def render_pngs(sizes: set[int]) -> dict[int, bytes]:
    """PNG bytes of the SVG at each size, drawn by Qt (offscreen, no display needed)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: Qt cannot read {SOURCE}")
    pngs: dict[int, bytes] = {}
    for size in sorted(sizes):
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.convertToFormat(QImage.Format.Format_ARGB32).save(
            buffer, "PNG", 0
        )  # PNG is lossless: 0 = smallest
        buffer.close()
        pngs[size] = bytes(data.data())
    return pngs


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico: ICONDIR, one ICONDIRENTRY per size, then the PNGs (Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns: 'icns' + length, then (type, length, PNG) elements, all big-endian."""
    body = b""
    for kind, size in ICNS_TYPES:
        data = pngs[size]
        body += kind + struct.pack(">I", 8 + len(data)) + data
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def wanted() -> dict[str, bytes]:
    sizes = set(LINUX_SIZES) | set(ICO_SIZES) | {size for _kind, size in ICNS_TYPES}
    pngs = render_pngs(sizes)
    files = {f"kindly-{size}.png": pngs[size] for size in LINUX_SIZES}
    files["kindly.ico"] = ico_bytes({size: pngs[size] for size in ICO_SIZES})
    files["kindly.icns"] = icns_bytes(pngs)
    files[STAMP.name] = (source_hash() + "  resources/icons/kindly.svg\n").encode()
    return files


def is_stale() -> bool:
    """Whether packaging/icons/ was made from another version of the SVG (or is incomplete)."""
    names = [f"kindly-{size}.png" for size in LINUX_SIZES] + ["kindly.ico", "kindly.icns"]
    if not STAMP.exists() or any(not (OUT / name).exists() for name in names):
        return True
    return STAMP.read_text().split()[0] != source_hash()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the icons are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = is_stale()
        print("make_icons: packaging/icons/ is " + ("STALE" if stale else "up to date"))
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in wanted().items():
        (OUT / name).write_bytes(data)
        print(f"make_icons: {OUT.relative_to(ROOT) / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
