"""The code the suite tests is also type-checked (mypy) and lint-clean (ruff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_mypy_strict_is_clean_over_the_package():
    """Strict over the runtime; the training area's looser settings are in pyproject."""
    proc = _run("mypy", "--strict", "livearranger")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_is_clean():
    proc = _run("ruff", "check", "livearranger", "tests", "models", "export", "scripts")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_instrument_never_imports_the_lab():
    """Runtime modules import nothing from ``livearranger.lab`` at module level (the CLI
    reaches in for ``evaluate`` and ``bench`` only, inside those commands)."""
    import ast

    offenders = []
    package = ROOT / "livearranger"
    for path in package.rglob("*.py"):
        if "lab" in path.relative_to(package).parts:
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:                 # module level only
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names
                          if n.startswith("livearranger.lab")]
    assert offenders == []
