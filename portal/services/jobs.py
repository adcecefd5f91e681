"""Long work started from the admin, run in a background thread, its progress in ``job``.

A job row is started (``running``), advanced as rows are done and finished with its
summary (``done`` or ``failed``), so the page that polls it can be answered by any worker.

SQLite has one writer at a time, and an import holds the write lock for its whole file (it
is all or nothing, ``portal.services.imports``): progress written meanwhile would wait for
the import itself. On SQLite the progress is therefore kept in this process (``live``) and
written to the row when the import ends; on PostgreSQL it is also written to the row as it
goes, at most twice a second.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from portal.db import session_scope
from portal.models import Institution, Job
from portal.services.errors import ServiceError
from portal.services.imports import (
    COLUMNS,
    LABEL,
    ImportReport,
    Problem,
    import_registrations,
    read_rows,
)
from portal.services.registry import Act, audit

log = logging.getLogger(__name__)
_live: dict[int, int] = {}  # job id → rows done, for jobs running in this process
_lock = threading.Lock()
OUT_OF_SCOPE = "未找到机构代码 {code}，或该机构不在您的管辖范围内"


# --- the job row ------------------------------------------------------------------------


def start(
    session: Session,
    act: Act,
    kind: str,
    total: int | None = None,
    note: dict[str, Any] | None = None,
) -> Job:
    """A running job; ``note`` (e.g. the file's name) is the summary until it finishes."""
    job = Job(
        kind=kind, state="running", total=total, done=0, actor=act.actor, started_at=act.at,
        summary=json.dumps(note, ensure_ascii=False, sort_keys=True) if note else "",
    )  # fmt: skip
    session.add(job)
    session.flush()
    audit(session, act, f"start_{kind}", "job", job.id)
    return job


def advance(engine: Engine, job_id: int, done: int, total: int | None = None) -> None:
    """Rows done so far (and the total, once known), in a transaction of its own, with the
    job's heartbeat (:func:`interrupted`)."""
    with session_scope(engine, write=True) as session:
        job = session.get(Job, job_id)
        if job is not None and job.state == "running":
            job.done = done
            if total is not None:
                job.total = total
            job.summary = json.dumps({**summary_of(job), HEARTBEAT: _now().isoformat()},
                                     ensure_ascii=False, sort_keys=True)  # fmt: skip
            session.add(job)


HEARTBEAT = "heartbeat"  # the note's key: when the running job last showed progress
STALE = timedelta(seconds=120)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def heartbeat_of(job: Job) -> datetime:
    """When a job last showed it was alive: its heartbeat (written with its progress),
    else when it started."""
    beat = summary_of(job).get(HEARTBEAT) if job.state == "running" else None
    if isinstance(beat, str):
        try:
            return _aware(datetime.fromisoformat(beat))
        except ValueError:
            pass
    return _aware(job.started_at)


def interrupted(job: Job, now: datetime | None = None) -> bool:
    """A ``running`` job that is not running in this process and whose heartbeat is older
    than :data:`STALE` (120 s): its process was killed or restarted. Its work was one
    transaction, so nothing of it was written; the same work may be started again. (On
    SQLite, where progress is not written while the work holds the write lock, a job of
    another process counts from its start: one process serves SQLite.)"""
    if job.state != "running" or live(job.id or 0) is not None:
        return False
    return (now or _now()) - heartbeat_of(job) > STALE


def finish(engine: Engine, job_id: int, summary: dict[str, Any], ok: bool = True) -> None:
    with session_scope(engine, write=True) as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.state = "done" if ok else "failed"
        job.done = max(job.done, live(job_id) or 0)
        if ok and job.total is not None:
            job.done = job.total
        job.summary = json.dumps(summary, ensure_ascii=False, sort_keys=True)
        job.finished_at = datetime.now(UTC)
        session.add(job)
    with _lock:
        _live.pop(job_id, None)


def live(job_id: int) -> int | None:
    """Rows done of a job running in this process (None: not running here)."""
    with _lock:
        return _live.get(job_id)


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def recent(session: Session, actor: str, kind: str, limit: int = 20) -> list[Job]:
    return list(
        session.exec(
            select(Job)
            .where(Job.actor == actor)
            .where(Job.kind == kind)
            .order_by(col(Job.id).desc())
            .limit(limit)
        )
    )


def summary_of(job: Job) -> dict[str, Any]:
    """The summary a finished job left (its note while it runs)."""
    if not job.summary:
        return {}
    try:
        data: dict[str, Any] = json.loads(job.summary)
    except ValueError:
        return {"error": job.summary}
    return data


class Progress:
    """The ``progress`` callable of a long piece of work: counts rows in this process and,
    where the database allows a second writer, writes them to the row now and then."""

    def __init__(self, engine: Engine, job_id: int, total: int | None) -> None:
        self.engine, self.job_id, self.total = engine, job_id, total
        self.done = 0
        self.write = engine.dialect.name != "sqlite"
        self._written = 0.0
        with _lock:
            _live[job_id] = 0

    def __call__(self, n: int) -> None:
        self.done += n
        with _lock:
            _live[self.job_id] = self.done
        now = time.monotonic()
        if self.write and now - self._written >= 0.5:
            self._written = now
            try:
                advance(self.engine, self.job_id, self.done)
            except Exception:  # progress is a courtesy; the work goes on
                log.warning("job %s: progress not written", self.job_id, exc_info=True)


# --- registration imports ----------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """An uploaded file saved to a folder of its own (removed when the import ends)."""

    path: Path
    good_rows: bool


def save_upload(folder: Path, filename: str, content: bytes, good_rows: bool) -> Upload:
    """Keep the file's own name (the import report and the batch record show it)."""
    name = Path(filename.replace("\\", "/")).name.strip() or "import.csv"
    if Path(name).suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise ServiceError("file", "请上传 CSV 或 XLSX 格式的登记备案表")
    if not content:
        raise ServiceError("file", "上传的文件是空的")
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = Path(name).stem, Path(name).suffix.lower()
    while len((stem + suffix).encode("utf-8")) > 120:  # file systems allow 255 bytes
        stem = stem[:-1]
    path = folder / (stem + suffix)
    path.write_bytes(content)
    return Upload(path, good_rows)


def run_import(
    engine: Engine,
    job_id: int,
    upload: Upload,
    *,
    actor: str,
    secret: str,
    sees: Callable[[Institution], bool],
) -> threading.Thread:
    """Import in a background thread; the job row says how far it got and what came of it."""
    thread = threading.Thread(
        target=_import_job,
        args=(engine, job_id, upload, actor, secret, sees),
        name=f"import-{job_id}",
        daemon=True,
    )
    thread.start()
    return thread


def _import_job(
    engine: Engine,
    job_id: int,
    upload: Upload,
    actor: str,
    secret: str,
    sees: Callable[[Institution], bool],
) -> None:
    try:
        content = upload.path.read_bytes()
        total, outside = _rows_outside_scope(engine, upload.path, content, sees)
        advance(engine, job_id, 0, total)
        if outside:
            # Rows at institutions the officer may not see are imported by no one: their
            # institution code is blanked, so the import refuses them by line like any bad
            # row (all or nothing unless the good rows are asked for), and the report says
            # why. The rest of the file is checked as usual.
            upload.path.write_bytes(_blank_institution(upload.path, content, set(outside)))
        report = import_registrations(
            engine, upload.path, actor=actor, at=datetime.now(UTC), secret=secret,
            good_rows=upload.good_rows, progress=Progress(engine, job_id, total),
        )  # fmt: skip
        _explain_outside(report, outside)
        finish(engine, job_id, import_summary(report, upload.path.name, upload.good_rows))
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        message = exc.message if isinstance(exc, ServiceError) else "导入中断：服务器内部错误"
        finish(engine, job_id, {"error": message, "file": upload.path.name}, ok=False)
    finally:
        shutil.rmtree(upload.path.parent, ignore_errors=True)


def import_summary(report: ImportReport, filename: str, good_rows: bool) -> dict[str, Any]:
    return {
        "file": filename,
        "good_rows": good_rows,
        "rows": report.rows,
        "imported": report.imported,
        "already": report.already,
        "committed": report.committed,
        "repeated_file": report.repeated_file,
        "text": report.summary(),
        "problems": [asdict(p) for p in sorted(report.problems, key=lambda p: p.line)],
    }


def _rows_outside_scope(
    engine: Engine, path: Path, content: bytes, sees: Callable[[Institution], bool]
) -> tuple[int, dict[int, str]]:
    """The number of data rows, and line → institution code of the rows at an institution
    that is unknown or outside the officer's scope (one message for both: no hint which)."""
    try:
        rows = list(read_rows(path, content))
    except ServiceError:
        return 0, {}  # the import reports the unreadable file itself
    codes = {row.get("institution_code", "") for _, row in rows} - {""}
    with session_scope(engine) as session:
        known = {
            i.code: i
            for i in session.exec(select(Institution).where(col(Institution.code).in_(codes)))
        }
    outside = {
        line: row["institution_code"]
        for line, row in rows
        if row.get("institution_code")
        and (row["institution_code"] not in known or not sees(known[row["institution_code"]]))
    }
    return len(rows), outside


def _code_columns(header: list[str]) -> list[int]:
    return [
        i for i, name in enumerate(header) if COLUMNS.get(name.strip(), name) == "institution_code"
    ]


def _blank_institution(path: Path, content: bytes, lines: set[int]) -> bytes:
    """The same file with the institution code emptied on ``lines`` (line numbers kept)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), data_only=True)
        sheet = book.worksheets[0]
        header = [str(c.value or "").strip() for c in sheet[1]]
        for line in lines:
            for i in _code_columns(header):
                sheet.cell(row=line, column=i + 1).value = None
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return content
    physical = list(io.StringIO(text))  # as csv.reader counts lines
    reader = csv.reader(iter(physical))
    header = [c.strip() for c in next(reader, [])]
    columns, first, pieces = _code_columns(header), reader.line_num, physical[: reader.line_num]
    for values in reader:
        span = physical[first : reader.line_num]
        if reader.line_num in lines and columns:
            for i in columns:
                if i < len(values):
                    values[i] = ""
            buffer = io.StringIO()
            ending = "\r\n" if span and span[-1].endswith("\r\n") else "\n"
            csv.writer(buffer, lineterminator=ending).writerow(values)
            pieces.append(buffer.getvalue())
        else:
            pieces.append("".join(span))
        first = reader.line_num
    return "".join(pieces).encode("utf-8-sig")


def _explain_outside(report: ImportReport, outside: dict[int, str]) -> None:
    column = LABEL["institution_code"]
    report.problems = [
        Problem(p.line, p.column, OUT_OF_SCOPE.format(code=outside[p.line]))
        if p.line in outside and p.column == column and p.message == "必填"
        else p
        for p in report.problems
    ]
