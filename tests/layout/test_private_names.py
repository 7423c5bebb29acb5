"""No app reaches into another app's private names: what one app offers another is its public
interface (the layers themselves are checked by import-linter in make lint)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("payments", "cases", "notifications", "uploads", "api", "webhooks", "resolution_center")


def _app_of(module: str) -> str:
    return module.split(".", 1)[0]


def _private_imports(path: Path, app: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            other = _app_of(node.module)
            if other in APPS and other != app:
                found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
                found += [node.module] if any(part.startswith("_") for part in node.module.split(".")) else []
    return found


@pytest.mark.parametrize("app", APPS)
def test_app_imports_no_private_name_of_another_app(app):
    """Each app uses only the public names of the others (no `from cases.services import _helper`)."""
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and (names := _private_imports(path, app))
    }
    assert offenders == {}


def test_private_import_checker_finds_one(tmp_path):
    """The checker itself sees a private import when there is one (so the test above can fail)."""
    module = tmp_path / "example.py"
    module.write_text("from cases.services.opening import _auto_refund_if_applies\n")
    assert _private_imports(module, "notifications") == ["cases.services.opening._auto_refund_if_applies"]
