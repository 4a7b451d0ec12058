"""The PyInstaller spec lists what the frozen app needs, and the pruning rules keep it.

The bundle itself is built by CI as its own step (python3 tasks.py build, then the frozen
--self-test); these tests only read the spec and the rules.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from app.core import diagnostics
from tests.packaging.conftest import PACKAGING, ROOT, load_script, spec_tables

rules = load_script("bundle_rules")


def covered(path: Path, entries: list[tuple[str, str]]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == src or rel.startswith(src.rstrip("/") + "/") for src, _dest in entries)


def test_both_specs_compile_and_share_the_rules() -> None:
    for name in ("kindly.spec", "hello_window.spec"):
        text = (PACKAGING / name).read_text("utf-8")
        spec_tables(PACKAGING / name)
        assert "bundle_rules.prune(a.binaries, a.datas)" in text
        assert "excludes=bundle_rules.EXCLUDED_MODULES" in text
        assert "strip=STRIP" in text


def test_listed_data_files_exist(kindly_spec: dict[str, Any]) -> None:
    for source, dest in kindly_spec["DATA_FILES"]:
        path = ROOT / source
        assert path.exists(), f"{source} is listed in the spec but missing"
        if path.is_dir():
            assert any(p.is_file() for p in path.rglob("*")), f"{source} is empty"
            assert dest == source, "the app finds resources at the same relative path"


def test_every_resource_folder_with_files_is_listed(kindly_spec: dict[str, Any]) -> None:
    entries = kindly_spec["DATA_FILES"] + kindly_spec["OPTIONAL_DATA_FILES"]
    for folder in sorted((ROOT / "resources").iterdir()):
        if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
            assert covered(folder, entries), f"resources/{folder.name} is not in the spec"


def test_every_data_file_inside_app_is_listed(kindly_spec: dict[str, Any]) -> None:
    """Non-Python files under app/ (the migration SQL) are read at run time, so bundled."""
    for path in sorted((ROOT / "app").rglob("*")):
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in str(path):
            assert covered(path, kindly_spec["DATA_FILES"]), f"{path} is not in the spec"


def test_the_files_the_self_test_requires_are_bundled(kindly_spec: dict[str, Any]) -> None:
    for parts in diagnostics.REQUIRED_RESOURCES:
        assert covered(ROOT.joinpath("resources", *parts), kindly_spec["DATA_FILES"])
    assert ("pyproject.toml", ".") in kindly_spec["DATA_FILES"]  # the version, when frozen


def test_the_sentiment_lexicons_are_listed_and_installed(kindly_spec: dict[str, Any]) -> None:
    packages = dict(kindly_spec["PACKAGE_DATA_FILES"])
    assert set(packages["vaderSentiment"]) == {"vader_lexicon.txt", "emoji_utf8_lexicon.txt"}
    spec = importlib.util.find_spec("vaderSentiment")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    for name in packages["vaderSentiment"]:
        assert (folder / name).is_file()
    assert "vaderSentiment.vaderSentiment" in kindly_spec["HIDDEN_IMPORTS"]


def test_keyring_metadata_and_backends_are_listed(kindly_spec: dict[str, Any]) -> None:
    """keyring finds backends through its entry points: copy them, and ship the modules."""
    assert "keyring" in kindly_spec["METADATA"]
    by_os = kindly_spec["HIDDEN_IMPORTS_BY_OS"]
    assert set(by_os) == {"linux", "win32", "darwin"}
    assert "keyring.backends.SecretService" in by_os["linux"]
    assert "secretstorage" in by_os["linux"] and "jeepney.io.blocking" in by_os["linux"]
    assert "keyring.backends.Windows" in by_os["win32"]
    assert "keyring.backends.macOS" in by_os["darwin"]
    for module in kindly_spec["HIDDEN_IMPORTS"] + [
        m for modules in by_os.values() for m in modules if m.startswith("keyring.")
    ]:
        assert importlib.util.find_spec(module) is not None, module
    advertised = {ep.value for ep in entry_points(group="keyring.backends")}
    assert "keyring.backends.SecretService" in advertised


def test_windows_and_macos_details(kindly_spec: dict[str, Any]) -> None:
    text = (PACKAGING / "kindly.spec").read_text("utf-8")
    assert kindly_spec["BUNDLE_ID"] == "org.kindly.Kindly"
    assert '"packaging" / "windows" / "version_info.txt"' in text
    assert "kindly.ico" in text and "kindly.icns" in text
    for key in ("CFBundleShortVersionString", "NSHighResolutionCapable", "LSMinimumSystemVersion"):
        assert f'"{key}"' in text


# -- the pruning rules ----------------------------------------------------------------------

NEEDED_MODULES = ["PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg"]


def test_the_qt_modules_kindly_uses_are_not_excluded() -> None:
    for module in [*NEEDED_MODULES, "PySide6.QtDBus"]:
        assert module not in rules.EXCLUDED_MODULES
    for module in ["PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtPdf"]:
        assert module in rules.EXCLUDED_MODULES


def test_kindly_imports_no_excluded_qt_module() -> None:
    excluded = [m for m in rules.EXCLUDED_MODULES if m.startswith("PySide6.")]
    for path in [ROOT / "main.py", *sorted((ROOT / "app").rglob("*.py"))]:
        text = path.read_text("utf-8")
        for module in excluded:
            assert f"from {module} import" not in text, f"{path} imports {module}"
            assert f"import {module}\n" not in text, f"{path} imports {module}"


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),  # the self-test
        ("PySide6/Qt/plugins/platforms/qwindows.dll", True),
        ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", True),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/plugins/imageformats/libqtiff.so", False),
        ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so", True),
        ("PySide6/Qt/plugins/wayland-shell-integration/libivi-shell.so", False),
        ("PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so", True),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
        ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", False),
        ("PySide6/Qt/plugins/styles/qmodernwindowsstyle.dll", True),
    ],
)
def test_plugin_rules(dest: str, kept: bool) -> None:
    assert rules.keep_plugin(dest) is kept


def test_prune_drops_translations_plugins_and_qt_libraries() -> None:
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY"),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", "/x/tls.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Network.so.6", "/x/libQt6Network.so.6", "BINARY"),
        ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
        ("PySide6/Qt/lib/Qt6Network.dll", "/x/Qt6Network.dll", "BINARY"),
        ("PySide6/QtCore.abi3.so", "/x/QtCore.abi3.so", "EXTENSION"),
    ]
    datas = [
        ("PySide6/Qt/translations/qtbase_de.qm", "/x/qtbase_de.qm", "DATA"),
        ("resources/icons/kindly.svg", "/x/kindly.svg", "DATA"),
    ]
    kept_binaries, kept_datas, dropped = rules.prune(binaries, datas)
    kept_names = [entry[0] for entry in kept_binaries]
    assert "PySide6/Qt/plugins/platforms/libqxcb.so" in kept_names
    assert "PySide6/QtCore.abi3.so" in kept_names
    assert not any("Network" in name or "tls" in name for name in kept_names)
    assert kept_datas == [datas[1]]
    assert "PySide6/Qt/translations/qtbase_de.qm" in dropped
    assert "libQt6Network.so.6" in dropped  # the dangling link goes too
