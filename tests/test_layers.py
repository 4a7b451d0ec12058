"""The import structure: ``ui → core → storage``, no Qt below the UI, and no import cycles.

The checker (``tests/tools/check_layers.py``) is tested on a small fake project first, so a
checker that silently finds nothing cannot make this pass.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.tools.check_layers import check

ROOT = Path(__file__).resolve().parents[1]
CHECKER = ROOT / "tests" / "tools" / "check_layers.py"
SHARED_CHECK = ROOT.parent / "shared" / "tools" / "check-imports"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


CLEAN = {
    "app/__init__.py": "",
    "app/storage/__init__.py": "",
    "app/storage/models.py": "import sqlite3\nimport peewee\n",
    "app/storage/queries.py": "from app.storage.models import thing\nfrom . import models\n",
    "app/core/__init__.py": "",
    "app/core/inbox.py": "from app.storage import queries\nfrom PySide6.QtCore import QObject\n",
    "app/core/cases.py": "from .inbox import Inbox\n",
    "app/ui/__init__.py": "",
    "app/ui/window.py": (
        "from PySide6.QtWidgets import QWidget\nfrom app.core.inbox import Inbox\n"
        "from app.storage.models import thing\n"
    ),
}


# -- the checker itself ---------------------------------------------------------------------------


def test_the_checker_passes_a_clean_fake_project(tmp_path: Path) -> None:
    assert check(write_tree(tmp_path, CLEAN)) == []


def test_the_checker_reports_every_layering_violation(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            **CLEAN,
            "app/storage/bad_qt.py": "from PySide6.QtCore import QObject\n",
            "app/storage/bad_core.py": "def later():\n    import app.core.inbox\n",
            "app/storage/bad_ui.py": "from app import ui\n",
            "app/storage/bad_relative.py": "from ..core import cases\n",
            "app/core/bad_widgets.py": "from PySide6 import QtWidgets\n",
            "app/core/bad_gui.py": "import PySide6.QtGui\n",
            "app/core/bad_ui.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from app.ui.window import Window\n"
            ),
        },
    )

    problems = check(root)

    layering = sorted(p.split(" (")[0] for p in problems if p.startswith("layering:"))
    assert layering == [
        "layering: app.core.bad_gui imports PySide6.QtGui",
        "layering: app.core.bad_ui imports app.ui.window",
        "layering: app.core.bad_widgets imports PySide6.QtWidgets",
        "layering: app.storage.bad_core imports app.core.inbox",
        "layering: app.storage.bad_qt imports PySide6.QtCore",
        "layering: app.storage.bad_relative imports app.core",
        "layering: app.storage.bad_ui imports app.ui",
    ]
    assert all("must not import" in p for p in problems)
    assert not [p for p in problems if p.startswith("cycle:")]


def test_the_checker_reports_import_cycles(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            **CLEAN,
            # a three-module cycle, closed by a relative import inside a function
            "app/core/a.py": "from app.core import b\n",
            "app/core/b.py": "import app.core.c\n",
            "app/core/c.py": "def f():\n    from . import a\n",
            # a two-module cycle through ``from package import module``
            "app/ui/x.py": "from app.ui.y import Y\n",
            "app/ui/y.py": "from app.ui import x\n",
            # a package whose __init__ imports a module that imports the package
            "app/storage/pkg/__init__.py": "from .inner import thing\n",
            "app/storage/pkg/inner.py": "from app.storage.pkg import other\n",
        },
    )

    cycles = sorted(p for p in check(root) if p.startswith("cycle:"))

    assert cycles == [
        "cycle: app.core.a -> app.core.b -> app.core.c -> app.core.a",
        "cycle: app.storage.pkg -> app.storage.pkg.inner -> app.storage.pkg",
        "cycle: app.ui.x -> app.ui.y -> app.ui.x",
    ]


def test_the_checker_reports_a_file_it_cannot_read(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**CLEAN, "app/core/broken.py": "def (:\n"})

    assert [p.split(":")[0] for p in check(root)] == ["syntax"]


def test_the_checker_script_exits_non_zero_with_a_report(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**CLEAN, "app/storage/bad.py": "import app.ui.window\n"})

    bad = subprocess.run(
        [sys.executable, str(CHECKER), str(root)], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "layering: app.storage.bad imports app.ui.window" in bad.stdout

    good = subprocess.run(
        [sys.executable, str(CHECKER), str(write_tree(tmp_path / "clean", CLEAN))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stdout


# -- Kindly itself --------------------------------------------------------------------------------


def test_kindly_has_clean_layers_and_no_import_cycles() -> None:
    problems = check(ROOT)

    assert problems == [], "\n" + "\n".join(problems)


def test_the_lint_entry_point_passes() -> None:
    """``tasks.py lint`` runs the checker as a script from the project root."""
    run = subprocess.run(
        [sys.executable, "tests/tools/check_layers.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "no cycles" in run.stdout


@pytest.mark.skipif(not SHARED_CHECK.exists(), reason="../shared/tools/check-imports not here")
def test_the_shared_import_check_passes() -> None:
    run = subprocess.run(
        [sys.executable, str(SHARED_CHECK), str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(not SHARED_CHECK.exists(), reason="../shared/tools/check-imports not here")
def test_the_shared_check_and_ours_agree_on_a_broken_fake_project(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            **CLEAN,
            "app/storage/bad.py": "from PySide6.QtCore import QObject\n",
            "app/core/a.py": "from app.core import b\n",
            "app/core/b.py": "from app.core import a\n",
        },
    )

    shared = subprocess.run(
        [sys.executable, str(SHARED_CHECK), str(root)], capture_output=True, text=True, check=False
    )

    assert shared.returncode == 1
    assert "app.storage.bad" in shared.stdout and "app.core.a" in shared.stdout
    ours = check(root)
    assert any(p.startswith("layering: app.storage.bad") for p in ours)
    assert "cycle: app.core.a -> app.core.b -> app.core.a" in ours
