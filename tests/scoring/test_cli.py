"""``python -m scoring evaluate`` and ``check`` as FORMAT.md describes them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HUNAN_STORY = """
kind: practitioner
ruleset: hunan-2025
title: A small Hunan story used by the command-line tests
events:
  - {type: score, date: 2025-03-10, tier: 1, responsibility: main}
  - {type: score, date: 2025-03-20, tier: 2, responsibility: main, case: C1}
  - {type: repair, date: 2025-04-10, route: exam, score: 88}
  - {type: restore, date: 2025-05-06}
at: [2025-03-15, 2025-04-15, 2025-05-07]
"""


def run_scoring(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scoring", *args], capture_output=True, text=True, check=False
    )


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_evaluate_answers_every_event_and_every_date(tmp_path: Path) -> None:
    run = run_scoring("evaluate", str(write(tmp_path, HUNAN_STORY)))
    assert run.returncode == 0, run.stdout
    answer = json.loads(run.stdout)
    assert [e["index"] for e in answer["events"]] == [0, 1, 2, 3]
    assert answer["events"][2]["granted"] == 2
    assert answer["events"][3] | {"explain": ""} == {
        "index": 3,
        "accepted": True,
        "effective": "2025-05-06",
        "explain": "",
    }
    fields = {
        "year_points",
        "status",
        "period_start",
        "period_end",
        "reregister_from",
        "measure",
        "payable",
        "emergency_payable",
    }
    for day in ("2025-03-15", "2025-04-15", "2025-05-07"):
        assert fields <= set(answer["at"][day])
    assert answer["at"]["2025-04-15"]["status"] == "suspended"
    assert answer["at"]["2025-04-15"]["period_start"] == "2025-04-01"
    assert answer["at"]["2025-05-07"]["status"] == "normal"
    assert answer["warnings"] == []


def test_evaluate_explains_which_rule_applied(tmp_path: Path) -> None:
    answer = json.loads(run_scoring("evaluate", str(write(tmp_path, HUNAN_STORY))).stdout)
    why = " ".join(answer["at"]["2025-04-15"]["explain"])
    assert "Hunan-Rules Art. 9(2)" in why
    assert "cumulative 9" in why


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (("ruleset: hunan-2025", "ruleset: hunan-2099"), "ruleset"),
        (("tier: 1, responsibility: main}", "tier: 1, responsibility: main, colour: red}"),
         "events[0].colour"),
        (("tier: 1, responsibility: main}", "tier: one, responsibility: main}"), "events[0].tier"),
        (("{type: score, date: 2025-03-10, ", "{type: score, "), "events[0].date"),
        (("tier: 1, responsibility: main}", "points: 13}"), "events[0].points"),
        (("tier: 1, responsibility: main}", "points: 0}"), "events[0].points"),
        (("date: 2025-03-10", "date: 2025-02-10"), "events[0].date"),
        (("tier: 1, responsibility: main}", "points: 2, case: C1}"), "events[1].date"),
        (("responsibility: main, case: C1}", "responsibility: main, effective: 2025-03-25}"),
         "events[1].effective"),
        (("date: 2025-03-10", "date: 2025-02-30"), "events[0].date"),
        (("route: exam, score: 88", "route: exam, level: city"), "events[2].level"),
        (("route: exam, score: 88", "route: exam, score: 101"), "events[2].score"),
    ],
)  # fmt: skip
def test_invalid_input_exits_2_naming_the_field(
    tmp_path: Path, change: tuple[str, str], names: str
) -> None:
    old, new = change
    assert old in HUNAN_STORY
    run = run_scoring("evaluate", str(write(tmp_path, HUNAN_STORY.replace(old, new, 1))))
    assert run.returncode == 2, run.stdout
    error = json.loads(run.stdout)["error"]
    assert names in error


def test_a_broken_yaml_file_is_an_input_error(tmp_path: Path) -> None:
    run = run_scoring("evaluate", str(write(tmp_path, "events: [unclosed\n")))
    assert run.returncode == 2
    assert "YAML" in json.loads(run.stdout)["error"]


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    run = run_scoring("evaluate", str(tmp_path / "nothing.yaml"))
    assert run.returncode == 2
    assert "cannot read" in json.loads(run.stdout)["error"]


def test_check_reports_the_wrong_field_and_exits_1(tmp_path: Path) -> None:
    wrong = HUNAN_STORY + "expect:\n  at:\n    2025-04-15: {status: normal, year_points: 9}\n"
    run = run_scoring("check", str(write(tmp_path, wrong)))
    assert run.returncode == 1
    assert "status: expected 'normal', got 'suspended'" in run.stdout
    assert run.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_check_fails_a_case_that_checks_nothing(tmp_path: Path) -> None:
    run = run_scoring("check", str(write(tmp_path, HUNAN_STORY + "expect: {}\n")))
    assert run.returncode == 1
    assert "at least one field" in run.stdout


def test_check_passes_an_expected_refusal(tmp_path: Path) -> None:
    bad = HUNAN_STORY.replace("ruleset: hunan-2025", "ruleset: nowhere") + "expect: {error: true}\n"
    run = run_scoring("check", str(write(tmp_path, bad)))
    assert run.returncode == 0, run.stdout


def test_evaluate_answers_a_deadline(tmp_path: Path) -> None:
    case = "kind: deadline\nfrom: 2025-09-26\nworking_days: 10\n"
    answer = json.loads(run_scoring("evaluate", str(write(tmp_path, case))).stdout)
    assert answer == {"due": "2025-10-16", "warnings": []}


def test_a_deadline_in_an_unloaded_year_warns(tmp_path: Path) -> None:
    case = "kind: deadline\nfrom: 2031-12-31\nworking_days: 1\n"
    answer = json.loads(run_scoring("evaluate", str(write(tmp_path, case))).stdout)
    assert answer["due"] == "2032-01-01"  # a Thursday, counted as a working day
    assert "2032" in answer["warnings"][0] and "I-10" in answer["warnings"][0]


def test_evaluate_answers_a_credit_case(tmp_path: Path) -> None:
    case = """
    kind: credit
    ruleset: hunan-credit-2024
    year: 2025
    subject: {type: designated_hospital}
    bonus: [{indicator: b, points: 12}]
    deductions: [{indicator: d, points: 5.5}]
    """
    answer = json.loads(run_scoring("evaluate", str(write(tmp_path, case))).stdout)
    assert answer["score"] == 76.5
    assert answer["grade"] == "B"
    assert answer["incentives"] is True
    assert answer["excluded"] is False


def test_a_credit_subject_outside_the_regulation_is_refused(tmp_path: Path) -> None:
    case = "kind: credit\nruleset: hunan-credit-2024\nyear: 2025\nsubject: {type: alien}\n"
    run = run_scoring("evaluate", str(write(tmp_path, case)))
    assert run.returncode == 2
    assert "subject.type" in json.loads(run.stdout)["error"]
