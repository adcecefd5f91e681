"""The ``portal`` command line against a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.portal.conftest import SECRET

PORTAL = Path(sys.executable).with_name("portal")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PORTAL_SECRET": SECRET}
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
    env = {**os.environ, "DATABASE_URL": "mysql://root@localhost/x", "PORTAL_SECRET": SECRET}
    out = subprocess.run(
        [str(PORTAL), "db", "upgrade"], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode != 0 and "DATABASE_URL" in out.stderr


def test_import_from_the_command_line_reports_bad_rows_by_line(tmp_path: Path) -> None:
    db = tmp_path / "portal.db"
    assert run(db, "demo-data", "--practitioners", "50", "--as-of", "2026-11-01").returncode == 0
    with sqlite3.connect(db) as conn:
        code, name = conn.execute("SELECT code, name FROM institution LIMIT 1").fetchone()
    header = "姓名,医保代码,身份证件号码,医药机构名称,医药机构代码,服务承诺签订,登记备案日期\n"
    good = f"周杰,D43010299001,110101199003074514,{name},{code},是,2026-10-08\n"
    bad = f"吴磊,D43010299002,110101199003074515,{name},{code},是,2026-10-08\n"
    path = tmp_path / "登记备案.csv"
    path.write_text(header + good + bad, encoding="utf-8")
    refused = run(db, "import", str(path))
    assert refused.returncode == 1
    assert "第 3 行 身份证件号码" in refused.stderr
    assert "未导入任何数据" in refused.stdout
    partial = run(db, "import", str(path), "--good-rows")
    assert partial.returncode == 0 and "导入 1 行" in partial.stdout
    again = run(db, "import", str(path), "--good-rows")
    assert "导入 0 行，已存在 1 行" in again.stdout


def test_every_command_refuses_to_open_a_database_without_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_SECRET")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'portal.db'}"
    for args in (["db", "upgrade"], ["ledger", "verify"], ["demo-data", "--practitioners", "5"]):
        out = subprocess.run(
            [str(PORTAL), *args], capture_output=True, text=True, env=env, check=False
        )
        assert out.returncode == 2, args
        assert "PORTAL_SECRET" in out.stderr
    assert not (tmp_path / "portal.db").exists()


def test_secret_rotate_reads_the_new_secret_from_stdin(tmp_path: Path) -> None:
    db = tmp_path / "portal.db"
    assert run(db, "demo-data", "--practitioners", "30", "--as-of", "2026-11-01").returncode == 0
    new = "rotated-secret-abcdefghijkl"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PORTAL_SECRET": SECRET}
    rotated = subprocess.run(
        [str(PORTAL), "secret", "rotate"], input=new + "\n", capture_output=True, text=True,
        env=env, check=False,
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    assert "30 practitioners" in rotated.stdout
    old_key = run(db, "ledger", "verify")
    assert old_key.returncode != 0 and "PORTAL_SECRET" in old_key.stderr
    env["PORTAL_SECRET"] = new
    new_key = subprocess.run(
        [str(PORTAL), "ledger", "verify"], capture_output=True, text=True, env=env, check=False
    )
    assert new_key.returncode == 0, new_key.stderr
