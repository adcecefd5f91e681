"""``scoring`` is pure: standard library plus YAML and the holiday calendar (STYLE rule 1)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SCORING = Path(__file__).resolve().parents[2] / "scoring"
ALLOWED_THIRD_PARTY = {"yaml", "chinese_calendar", "scoring"}
FORBIDDEN_STDLIB = {"time", "sqlite3", "socket", "http", "urllib", "asyncio", "threading"}
CLOCK_CALLS = {"today", "now", "utcnow", "time"}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(SCORING.rglob("*.py"))]


def test_scoring_imports_nothing_but_the_standard_library_yaml_and_the_calendar() -> None:
    bad = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                stdlib = top in sys.stdlib_module_names
                if (stdlib and top in FORBIDDEN_STDLIB) or (
                    not stdlib and top not in ALLOWED_THIRD_PARTY
                ):
                    bad.append(f"{path.name}: import {name}")
    assert bad == []


def test_scoring_never_reads_the_clock() -> None:
    calls = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
                calls.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert calls == []
