"""The ``portal`` command line against a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

PORTAL = Path(sys.executable).with_name("portal")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run(
        [str(PORTAL), *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )


def test_demo_data_verify_tamper_and_rebuild(tmp_path: Path) -> None:
    db = tmp_path / "portal.db"
    assert run(db, "db", "upgrade").returncode == 0
    made = run(db, "demo-data", "--practitioners", "800", "--seed", "5", "--as-of", "2026-11-01")
    assert made.returncode == 0, made.stderr
    assert "800 practitioners" in made.stdout and "suspended" in made.stdout
    skipped = run(db, "demo-data", "--practitioners", "800", "--if-empty")
    assert "skipped" in skipped.stdout
    ok = run(db, "ledger", "verify")
    assert ok.returncode == 0 and "agrees" in ok.stdout
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE status_cache SET timeline = '{}' WHERE rowid IN "
            "(SELECT rowid FROM status_cache LIMIT 2)"
        )
    broken = run(db, "ledger", "verify")
    assert broken.returncode == 1 and "2 differ" in broken.stdout
    fixed = run(db, "ledger", "rebuild")
    assert fixed.returncode == 0 and "rebuilt 2" in fixed.stdout
    assert run(db, "ledger", "verify").returncode == 0


def test_a_bad_database_url_is_named(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "mysql://root@localhost/x"}
    out = subprocess.run(
        [str(PORTAL), "db", "upgrade"], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode != 0 and "DATABASE_URL" in out.stderr
