"""``portal credit evaluate`` against a real SQLite file (spec/DESIGN.md, "Command line")."""

from __future__ import annotations

import json
from pathlib import Path

from portal.db import make_engine, session_scope
from tests.portal.test_cli import run
from tests.portal.test_credit_evaluation import build


def _database(tmp_path: Path) -> Path:
    db = tmp_path / "portal.db"
    assert run(db, "db", "upgrade").returncode == 0
    engine = make_engine(f"sqlite:///{db}")
    with session_scope(engine, write=True) as session:
        build(session)
    engine.dispose()
    return db


def test_preview_commit_publish_and_the_json_summary(tmp_path: Path) -> None:
    db = _database(tmp_path)
    preview = run(db, "credit", "evaluate", "--year", "2025")
    assert preview.returncode == 0, preview.stderr
    assert "grades A 0, B 3, C 2, D 1" in preview.stdout and "[preview]" in preview.stdout
    shown = run(db, "credit", "evaluate", "--year", "2025", "--region", "4301", "--json")
    data = json.loads(shown.stdout)
    assert set(data) >= {"year", "region", "grades", "kinds", "held", "excluded", "state"}
    assert data["year"] == 2025 and data["region"] == "4301" and data["state"] == "preview"
    assert data["grades"] == {"A": 0, "B": 2, "C": 2, "D": 1}
    assert data["held"] == 1 and data["excluded"] == {"no_fund_use": 2, "short_period": 1}
    not_yet = run(db, "credit", "evaluate", "--year", "2025", "--publish")
    assert not_yet.returncode == 1 and "--commit" in not_yet.stderr
    committed = run(db, "credit", "evaluate", "--year", "2025", "--commit", "--json")
    assert committed.returncode == 0, committed.stderr
    result = json.loads(committed.stdout)
    assert result["state"] == "committed" and result["held"] == 2
    assert {h["code"] for h in result["held_institutions"]} == {"H43010200001", "H43060200001"}
    published = run(db, "credit", "evaluate", "--year", "2025", "--publish", "--json")
    assert published.returncode == 0 and json.loads(published.stdout)["state"] == "published"
    plain = run(db, "credit", "evaluate", "--year", "2025", "--commit")
    assert "待征求意见 held: H43010200001" in plain.stdout and "written 0" in plain.stdout
    assert "4301 长沙市" in plain.stdout and "4306 岳阳市" in plain.stdout  # the per-city table
    assert "kind_grades" in result and "cities" in result  # --json: fields added only


def test_refusals_exit_1_with_the_reason_and_bad_options_exit_2(tmp_path: Path) -> None:
    db = _database(tmp_path)
    future = run(db, "credit", "evaluate", "--year", "2999")
    assert future.returncode == 1 and "尚未结束" in future.stderr
    unknown = run(db, "credit", "evaluate", "--year", "2025", "--region", "4399")
    assert unknown.returncode == 1 and "未知行政区划" in unknown.stderr
    for args in (["--year", "abc"], ["--region", "43x"], ["--region", "431"]):
        bad = run(db, "credit", "evaluate", *(["--year", "2025"] if args[0] != "--year" else []),
                  *args)  # fmt: skip
        assert bad.returncode == 2 and args[0] in bad.stderr, bad.stderr
    county = run(db, "credit", "evaluate", "--year", "2025", "--region", "430102")
    assert county.returncode == 1 and "第二十一条" in county.stderr, county.stderr
    missing = run(db, "credit", "evaluate")
    assert missing.returncode == 2 and "--year" in missing.stderr
