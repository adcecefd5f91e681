"""Every conformance case passes through the same code path as ``python -m scoring check``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scoring.conformance import check_file

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "conformance" / "cases"
SHARED_CASES = ROOT.parent / "shared" / "conformance" / "cases"
ALL_CASES = sorted(CASES.glob("*.yaml"))


@pytest.mark.parametrize("path", ALL_CASES, ids=lambda p: p.stem)
def test_case_passes(path: Path) -> None:
    result = check_file(path)
    assert result.passed, "\n".join(result.failures)


def test_every_public_case_is_in_the_suite_unchanged() -> None:
    if not SHARED_CASES.is_dir():
        pytest.skip("../shared is not beside this checkout")
    for public in SHARED_CASES.glob("*.yaml"):
        ours = CASES / public.name
        assert ours.exists(), f"{public.name} is not copied into tests/conformance/cases"
        assert ours.read_bytes() == public.read_bytes(), f"{public.name} differs from shared/"


def test_the_check_command_passes_the_whole_directory() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "scoring", "check", str(CASES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout
    assert run.stdout.strip().splitlines()[-1] == f"{len(ALL_CASES)} passed, 0 failed"


def test_our_cases_have_sentence_titles() -> None:
    for path in ALL_CASES:
        text = path.read_text(encoding="utf-8")
        title = next((line for line in text.splitlines() if line.startswith("title:")), "")
        assert len(title.split()) >= 4, f"{path.name} needs a sentence title"
