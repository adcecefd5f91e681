"""The query log: every look at a person's non-public data asks for its purpose first and
is written here (Hunan-Credit Art. 23; spec/DESIGN.md "Admin": masked ID, full history,
attachments). Auditors search it."""

from __future__ import annotations

from sqlmodel import Session, col, select

from portal.models import QueryLog
from portal.services.errors import ServiceError
from portal.services.registry import Act

WHAT_ZH = {
    "private_data": "身份证件号码（脱敏）、出生日期、联系电话",
    "full_history": "完整记分与处理记录",
    "attachment": "附件",
    "credit_archive": "信用档案（非公开信息）",
}


def record_query(session: Session, act: Act, *, subject: str, what: str, purpose: str) -> QueryLog:
    """Write the row before the data is shown; a look without a purpose is refused."""
    purpose = purpose.strip()
    if len(purpose) < 4:
        raise ServiceError("purpose", "请说明查询目的（至少 4 个字），查询将记入查询日志")
    if what not in WHAT_ZH:
        raise ServiceError("what", f"查询内容应为 {'、'.join(WHAT_ZH)} 之一")
    row = QueryLog(at=act.at, actor=act.actor, subject=subject, what=what, purpose=purpose[:500])
    session.add(row)
    session.flush()
    return row


def search_queries(
    session: Session, *, actor: str = "", subject: str = "", limit: int = 200
) -> list[QueryLog]:
    query = select(QueryLog).order_by(col(QueryLog.id).desc()).limit(limit)
    if actor:
        query = query.where(QueryLog.actor == actor)
    if subject:
        query = query.where(QueryLog.subject == subject)
    return list(session.exec(query))
