"""DESIGN.md §2: imports point down only; Qt only in gui/; no cv2 in core/.

Two independent checks: import-linter's contracts from pyproject.toml, run as CI runs them,
and a plain AST scan of every module (it also sees imports inside functions and under
TYPE_CHECKING, and reports file and line)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scanner_app"


def test_import_linter_contracts_pass():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    assert lint_imports.exists(), f"import-linter is not installed next to {sys.executable}"
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"lint-imports failed:\n{report}"
    assert "0 broken" in report and "KEPT" in report, report


def imported_modules(path: Path):
    """(top-level module name, line) of every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                yield ".".join([*base, node.module or ""]).strip("."), node.lineno
            else:
                yield node.module or "", node.lineno


def violations(forbidden: set[str], allowed_under: Path | None = None, only_under: Path = PACKAGE):
    found = []
    for path in sorted(only_under.rglob("*.py")):
        if allowed_under is not None and allowed_under in path.parents:
            continue
        for module, line in imported_modules(path):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def test_the_scan_sees_imports_at_all():
    # The checks below prove nothing if the scanner finds no imports.
    modules = {m for m, _ in imported_modules(PACKAGE / "core" / "door_rules.py")}
    assert "scanner_app.core.tokens" in modules and "sqlite3" in modules
    gui_imports = violations({"PySide6"}, only_under=PACKAGE / "gui")
    assert gui_imports, "gui/ imports Qt; the scan should have seen it"


def test_no_qt_outside_gui():
    found = violations({"PySide6", "PyQt5", "PyQt6", "shiboken6"}, allowed_under=PACKAGE / "gui")
    assert not found, "Qt may only be imported in scanner_app/gui (DESIGN.md §2):\n" + "\n".join(
        found
    )


def test_no_cv2_or_http_in_core():
    forbidden = {"cv2", "zxingcpp", "pyzbar", "numpy", "httpx", "fastapi", "uvicorn", "PySide6"}
    found = violations(forbidden, only_under=PACKAGE / "core")
    assert not found, "scanner_app/core may import only stdlib, PyJWT, cryptography and " + (
        "sqlite-utils (DESIGN.md §2):\n" + "\n".join(found)
    )


def test_core_imports_nothing_above_it():
    above = {"scanner_app.sync", "scanner_app.server", "scanner_app.camera", "scanner_app.gui"}
    found = []
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        for module, line in imported_modules(path):
            if any(module == a or module.startswith(a + ".") for a in above | {"scanner_app.cli"}):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not found, "core is the bottom layer (DESIGN.md §2):\n" + "\n".join(found)
