"""What a Kindly bundle leaves out, shared by kindly.spec and hello_window.spec.

Kindly draws its window with QtCore, QtGui and QtWidgets, and its icon with QtSvg (through the
SVG icon engine and image format plugins). PyInstaller's Qt hooks collect more than that: every
plugin of the kinds QtGui might load (kiosk platforms, touch devices, a GTK theme that drags in
the whole GTK stack, the Wayland compositor side), Qt's own translations (Kindly installs no
translator), and the libraries those plugins link. ``prune`` drops them after Analysis:

1. Qt translations, and plugin folders Kindly never loads;
2. within the plugin folders it does load, every plugin not in ``PLUGINS_KEPT``;
3. Qt libraries no kept piece needs (``QT_LIBS_DROPPED``, by name on every OS);
4. on Linux, every shared library that nothing kept still links to (a closure over ``ldd``),
   which removes what the dropped plugins alone pulled in (GTK, Cairo, Kerberos, …).

Module-level names are plain literals so tests can read them without PyInstaller.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import PurePosixPath

# Python modules a Kindly bundle never imports. Qt modules other than QtCore, QtGui, QtWidgets,
# QtSvg, QtCharts (the reports view; it links QtOpenGL and QtOpenGLWidgets) and QtDBus (which
# QtGui links on Linux) stay out; so does the Python standard library's GUI and test baggage.
EXCLUDED_MODULES = [
    "PySide6.Qt3DAnimation",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DExtras",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DRender",
    "PySide6.QtConcurrent",
    "PySide6.QtDataVisualization",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtLabsStyleKit",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtNetwork",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtPrintSupport",
    "PySide6.QtQml",
    "PySide6.QtQmlFeatures",
    "PySide6.QtQuick",
    "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest",
    "PySide6.QtQuickWidgets",
    "PySide6.QtSql",
    "PySide6.QtSvgWidgets",
    "PySide6.QtTest",
    "PySide6.QtUiTools",
    "PySide6.QtWebChannel",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtXml",
    "tkinter",
    "_tkinter",
    "pydoc",
    "lib2to3",
    "idlelib",
    "pytest",
    "_pytest",
]

# Plugin folders that are kept, and which plugins in each (file stem without "lib" and the
# extension). A folder not listed here is dropped whole (designer, egldeviceintegrations,
# generic, networkinformation, printsupport, qmltooling, sqldrivers, tls, vectorimageformats,
# wayland-graphics-integration-server, …). "*" keeps the whole folder.
PLUGINS_KEPT: dict[str, list[str]] = {
    # X11, Wayland, the offscreen one for --self-test; Windows and macOS
    "platforms": ["qxcb", "qwayland", "qoffscreen", "qwindows", "qcocoa"],
    # native file dialogs through the XDG portal; no GTK theme (it would pull in all of GTK)
    "platformthemes": ["qxdgdesktopportal"],
    # dead keys and input methods (accents, CJK)
    "platforminputcontexts": [
        "composeplatforminputcontextplugin",
        "ibusplatforminputcontextplugin",
    ],
    # the SVG window icon, .ico, and common pictures
    "imageformats": ["qsvg", "qico", "qgif", "qjpeg"],
    "iconengines": ["qsvgicon"],
    # the native look on Windows and macOS
    "styles": ["qmodernwindowsstyle", "qwindowsvistastyle", "qmacstyle"],
    "xcbglintegrations": ["*"],
    # Wayland: window decorations (GNOME draws none), the xdg shell, EGL for GL surfaces
    "wayland-decoration-client": ["*"],
    "wayland-shell-integration": ["xdg-shell"],
    "wayland-graphics-integration-client": ["qt-plugin-wayland-egl"],
}

# Qt libraries that only dropped plugins or modules need, by the name they carry on every OS
# (libQt6X.so.6, Qt6X.dll, QtX.framework).
QT_LIBS_DROPPED = [
    "Network",
    "EglFSDeviceIntegration",
    "EglFsKmsSupport",
    "WlShellIntegration",
    "WaylandCompositor",
    "Pdf",
    "Qml",
    "QmlModels",
    "QmlMeta",
    "QmlWorkerScript",
    "Quick",
    "VirtualKeyboard",
    "PrintSupport",
    "Sql",
    "Xml",
]

QT_TRANSLATIONS_DIR = "PySide6/Qt/translations/"
QT_PLUGINS_DIR = "PySide6/Qt/plugins/"
TOC = list[tuple[str, str, str]]


def _posix(dest: str) -> str:
    return str(PurePosixPath(*dest.replace("\\", "/").split("/")))


def _stem(filename: str) -> str:
    name = filename.split(".", 1)[0]
    return name[3:] if name.startswith("lib") else name


def keep_plugin(dest: str) -> bool:
    """Whether the plugin at ``dest`` (a path under PySide6/Qt/plugins/) stays in the bundle."""
    parts = _posix(dest)[len(QT_PLUGINS_DIR) :].split("/")
    if len(parts) < 2:
        return True
    kept = PLUGINS_KEPT.get(parts[0])
    if kept is None:
        return False
    return "*" in kept or _stem(parts[-1]) in kept


def _qt_lib_dropped(dest: str) -> bool:
    name = PurePosixPath(_posix(dest)).name
    for lib in QT_LIBS_DROPPED:
        if name.startswith((f"libQt6{lib}.", f"Qt6{lib}.")) or f"/Qt{lib}.framework/" in (
            "/" + _posix(dest) + "/"
        ):
            return True
    return False


def _linked_names(path: str) -> set[str]:
    from PyInstaller.depend import bindepend

    try:
        return {os.path.basename(name) for name, _full in bindepend.get_imports(path)}
    except Exception:  # an unreadable file: keep what it might need
        return set()


def _orphans(binaries: TOC) -> set[str]:
    """Shared libraries (Linux) that no extension module, kept plugin or kept library links."""
    real = [entry for entry in binaries if entry[2] != "SYMLINK"]
    by_name: dict[str, list[tuple[str, str, str]]] = {}
    for entry in real:
        by_name.setdefault(os.path.basename(entry[0]), []).append(entry)
    roots = [
        entry
        for entry in real
        if entry[2] == "EXTENSION"
        or _posix(entry[0]).startswith(QT_PLUGINS_DIR)
        or os.path.basename(entry[0]).startswith("libpython")  # the bootloader dlopens it
    ]
    needed: set[str] = set()
    todo = list(roots)
    seen: set[str] = set()
    while todo:
        _dest, src, _kind = todo.pop()
        if src in seen:
            continue
        seen.add(src)
        for name in _linked_names(src):
            needed.add(name)
            todo.extend(by_name.get(name, []))
    return {
        entry[0]
        for entry in real
        if entry[2] == "BINARY"
        and not _posix(entry[0]).startswith(QT_PLUGINS_DIR)
        and os.path.basename(entry[0]) not in needed
        and not os.path.basename(entry[0]).startswith("libpython")
    }


def have_strip() -> bool:
    """Whether binutils' strip is there (EXE/COLLECT strip=True needs it on Linux and macOS)."""
    import shutil

    if shutil.which("strip"):
        return True
    print("bundle_rules: no 'strip' on PATH (install binutils): binaries keep their symbols")
    return False


def report(dropped: list[str]) -> None:
    """One line per kind of thing left out, so a build log shows what the rules did."""
    groups: dict[str, int] = {}
    for dest in dropped:
        if dest.startswith(QT_TRANSLATIONS_DIR):
            key = "Qt translations"
        elif dest.startswith(QT_PLUGINS_DIR):
            key = "Qt plugins"
        elif _qt_lib_dropped(dest):
            key = "Qt libraries"
        else:
            key = "other libraries (needed only by what was left out)"
        groups[key] = groups.get(key, 0) + 1
    for key, count in sorted(groups.items()):
        print(f"bundle_rules: left out {count} {key}")


def prune(binaries: Iterable[tuple[str, str, str]], datas: Iterable[tuple[str, str, str]]):  # type: ignore[no-untyped-def]
    """Return (binaries, datas, dropped) with the unused Qt pieces left out."""
    dropped: list[str] = []

    def keep(entry: tuple[str, str, str]) -> bool:
        dest = _posix(entry[0])
        if dest.startswith(QT_TRANSLATIONS_DIR):
            ok = False
        elif dest.startswith(QT_PLUGINS_DIR):
            ok = keep_plugin(dest)
        else:
            ok = not _qt_lib_dropped(dest)
        if not ok:
            dropped.append(dest)
        return ok

    kept_binaries = [e for e in binaries if keep(e)]
    kept_datas = [e for e in datas if keep(e)]
    if sys.platform.startswith("linux"):
        orphans = _orphans(kept_binaries)
        dropped.extend(sorted(orphans))
        kept_binaries = [e for e in kept_binaries if e[0] not in orphans]
    # symbolic links to files that are gone
    present = {_posix(e[0]) for e in kept_binaries if e[2] != "SYMLINK"}
    final = []
    for entry in kept_binaries:
        if entry[2] == "SYMLINK":
            # Analysis gives the target's bundle path; later stages a path relative to the link
            targets = {
                _posix(entry[1]),
                _posix(os.path.normpath(os.path.join(os.path.dirname(entry[0]), entry[1]))),
            }
            if not targets & present:
                dropped.append(_posix(entry[0]))
                continue
        final.append(entry)
    return final, kept_datas, dropped
