# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/conformance.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""Checking conformance cases against their ``expect`` (FORMAT.md, "expect")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cases import evaluate_case, load_yaml
from .errors import InputError
from .workdays import WorkCalendar


@dataclass
class CaseResult:
    path: Path
    title: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    checked: int = 0


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(expected - actual) < 1e-9
    return bool(expected == actual)


def _compare(expected: dict[Any, Any], actual: dict[str, Any], where: str) -> tuple[int, list[str]]:
    failures = []
    for key, want in expected.items():
        got = actual.get(str(key), "(absent)")
        if not _same(want, got):
            failures.append(f"{where}{key}: expected {want!r}, got {got!r}")
    return len(expected), failures


def check_data(data: Any, path: Path, calendar: WorkCalendar | None = None) -> CaseResult:
    """Run one case and compare the fields its ``expect`` names; nothing else is compared."""
    title = str(data.get("title", "")) if isinstance(data, dict) else ""
    result = CaseResult(path, title, passed=False)
    expect = data.get("expect") if isinstance(data, dict) else None
    if not isinstance(expect, dict):
        result.failures.append("no expect mapping: a case must check at least one field")
        return result
    try:
        answer = evaluate_case(data, calendar)
    except InputError as exc:
        if expect.get("error") is True:
            result.passed, result.checked = True, 1
        else:
            result.failures.append(f"refused as invalid input: {exc}")
        return result
    if expect.get("error") is True:
        result.failures.append("expected the case to be refused as invalid input; it was evaluated")
        return result
    if expect.get("error") is False:
        result.checked += 1
    expect = {k: v for k, v in expect.items() if k != "error"}
    kind = data.get("kind", "practitioner")
    if kind == "practitioner":
        unknown = sorted(str(k) for k in expect if k not in ("at", "events"))
        if unknown:
            result.failures.append(f"unknown expect keys: {', '.join(unknown)}")
        by_index = {e["index"]: e for e in answer["events"]}
        for index, fields in (expect.get("events") or {}).items():
            if not isinstance(index, int) or index not in by_index:
                result.failures.append(f"events[{index}]: no such event")
                continue
            n, failures = _compare(fields, by_index[index], f"events[{index}].")
            result.checked += n
            result.failures += failures
        for day, fields in (expect.get("at") or {}).items():
            got = answer["at"].get(str(day))
            if got is None:
                result.failures.append(f"at {day}: the date is not in the case's `at` list")
                continue
            n, failures = _compare(fields, got, f"at {day}: ")
            result.checked += n
            result.failures += failures
    else:
        n, failures = _compare(expect, answer, "")
        result.checked += n
        result.failures += failures
    if result.checked == 0 and not result.failures:
        result.failures.append("a case must check at least one field")
    result.passed = not result.failures
    return result


def check_file(path: Path, calendar: WorkCalendar | None = None) -> CaseResult:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except InputError as exc:
        return CaseResult(path, "", False, [str(exc)])
    return check_data(data, path, calendar)


def collect(paths: list[Path]) -> list[Path]:
    """Case files named on the command line, directories searched for ``*.yaml``/``*.yml``."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files
