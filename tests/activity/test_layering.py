"""The activity app's place in the layers: it imports orgs and policies, never the token service
or the API above it; nothing below it (orgs, policies, accounts, the portal's shared modules)
imports it. Only the wiring (settings, urls) names it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIRING = {"portal/settings.py", "portal/urls.py"}


def imported_modules(package: str):
    """``(file, module)`` for every import in the package's modules (migrations included)."""
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                yield str(path.relative_to(ROOT)), name


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", ["orgs", "policies", "accounts", "portal"])
def test_nothing_below_imports_activity(package):
    climbing = [
        (file, module)
        for file, module in imported_modules(package)
        if top(module) == "activity" and file not in WIRING
    ]
    assert climbing == []


def test_activity_imports_nothing_above_it():
    climbing = [
        (file, module)
        for file, module in imported_modules("activity")
        if top(module) in {"tokens", "api"}
    ]
    assert climbing == []
