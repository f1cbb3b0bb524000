"""The apps' layers, proven by import-linter (the contract is in pyproject.toml): each app
imports only the layers below it, from ``portal`` (the wiring) down to ``core``, which knows no
app. The same check, on a copy of the tree with one import that climbs, must fail."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "portal",
    "api",
    "provisioning",
    "tokens",
    "activity",
    "signin",
    "identity",
    "policies",
    "orgs",
    "accounts",
    "core",
]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(executable), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_no_import_climbs_to_a_higher_layer():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_that_climbs_breaks_the_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "orgs" / "climbing.py").write_text("from tokens import services\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "orgs is not allowed to import tokens" in result.stdout
    assert "orgs.climbing -> tokens.services" in result.stdout
