"""The floors of STYLE.md: crm/ is the ground floor and imports no app above it; the
domain apps never import the workspace (the top floor that composes them)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = {"students", "parents", "lifecycle", "marketing", "dataio", "webhooks",
               "timetable"}
TOP = {"workspace"}

# Wiring, not code on the wrong floor: the project's URL confs route to every app, and
# scoping rows by student or parent (permissions, admin) needs those models.
GROUND_EXCEPTIONS = {"crm/urls.py", "crm/api_urls.py", "crm/permissions.py", "crm/admin.py"}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def test_imported_apps_sees_plain_and_from_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import students.models\nfrom lifecycle.periods import Period\n"
                      "from . import local\n")
    assert imported_apps(source) == {"students", "lifecycle"}


def test_the_ground_floor_imports_no_app_above_it():
    upward = {str(p.relative_to(ROOT)): sorted(imported_apps(p) & (DOMAIN_APPS | TOP))
              for p in modules("crm")}
    upward = {k: v for k, v in upward.items() if v and k not in GROUND_EXCEPTIONS}
    assert upward == {}


def test_no_domain_app_imports_the_workspace():
    upward = {str(p.relative_to(ROOT)): sorted(imported_apps(p) & TOP)
              for app in DOMAIN_APPS for p in modules(app)}
    assert {k: v for k, v in upward.items() if v} == {}
