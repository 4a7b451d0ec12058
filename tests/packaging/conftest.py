"""Read the packaging files as data: the spec's tables, the scripts as modules. Nothing is built."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def project_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"])


def spec_tables(path: Path) -> dict[str, Any]:
    """The literal module-level assignments of a spec file (it must also compile)."""
    source = path.read_text("utf-8")
    compile(source, str(path), "exec")
    tables: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                with contextlib.suppress(ValueError):  # not a literal: not a table
                    tables[target.id] = ast.literal_eval(node.value)
    return tables


def load_script(name: str) -> ModuleType:
    """Import packaging/<name>.py (packaging/ is not a package)."""
    key = f"kindly_packaging_{name}"  # never shadow a real package called "build"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def kindly_spec() -> dict[str, Any]:
    return spec_tables(PACKAGING / "kindly.spec")
