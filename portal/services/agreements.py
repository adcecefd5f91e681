"""Institutions' agreement actions and what follows for their responsible persons."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlmodel import Session, select

from portal.models import (
    AgreementAction,
    LedgerEntry,
    Practitioner,
    Registration,
)
from portal.services import credit_archive, disclosure_feed, ledger
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import (
    Act,
    audit,
    get_institution,
    get_practitioner,
)
from scoring.dates import months_period_end

# --- institutions' agreement actions -------------------------------------------------


def record_agreement_action(
    session: Session,
    act: Act,
    *,
    institution_code: str,
    action: str,
    decided_on: date,
    effective_from: date,
    until: date | None,
    document_no: str,
    responsible: list[str] | tuple[str, ...] = (),
) -> AgreementAction:
    """中止 / 解除 / 恢复 an institution's agreement, and what follows for its responsible
    persons (National-Procedure Art. 34; Anhui-Rules Art. 21-22; Hunan-Rules Art. 10).

    Suspended: each responsible person is suspended for the agreement's suspension (Hainan-
    Rules Art. 25 caps it at 6 months). Terminated: each is terminated. Reinstated early:
    the linked suspensions end the day before, while a person's own suspension runs on
    (Hunan-Rules Art. 10). Persons without responsibility stay normal.
    """
    institution = get_institution(session, institution_code)
    if action not in ("suspended", "terminated", "reinstated"):
        raise ServiceError(
            "action", "协议处理应为中止（suspended）、解除（terminated）或恢复（reinstated）"
        )
    if effective_from < decided_on:
        raise ServiceError("effective_from", "生效日期不能早于决定日期")
    if until is not None and until < effective_from:
        raise ServiceError("until", "截止日期不能早于生效日期")
    if action == "suspended" and until is None:
        raise ServiceError("until", "中止医保协议须载明中止期限的截止日期")
    if (
        action == "suspended"
        and until is not None
        and institution.ruleset == "hainan-2025"
        and until > months_period_end(effective_from, 6)
    ):
        raise ServiceError("until", "中止医保协议不超过6个月（海南细则第二十五条）")
    if not document_no.strip():
        raise ServiceError("document_no", "请填写文书编号")
    used = select(AgreementAction.id).where(AgreementAction.document_no == document_no.strip())
    if session.exec(used).first() is not None:
        raise ServiceError("document_no", f"文书编号 {document_no} 已登记")
    people = []
    for i, code in enumerate(responsible):
        try:
            person = get_practitioner(session, code)
        except NotFound as exc:
            raise ServiceError(f"responsible[{i}]", exc.message) from exc
        here = session.exec(
            select(Registration.id)
            .where(Registration.practitioner_id == person.id)
            .where(Registration.institution_id == institution.id)
            .where(Registration.registered_on <= effective_from)
        ).first()
        if here is None:
            raise ServiceError(
                f"responsible[{i}]", f"{person.name}未在该机构登记备案，不能因该机构协议处理而受限"
            )
        people.append(person)
    if action == "reinstated":
        # Every linked suspension from this institution ends, whoever is named.
        linked = select(LedgerEntry.practitioner_id).where(LedgerEntry.kind == "linked")
        ids = {pid for pid in session.exec(linked).all()}
        people = [p for p in (session.get(Practitioner, pid) for pid in sorted(ids)) if p]
    record = AgreementAction(
        institution_id=institution.id or 0,
        action=action,
        decided_on=decided_on,
        effective_from=effective_from,
        until=until,
        document_no=document_no.strip(),
        **act.stamp(),
    )
    session.add(record)
    session.flush()
    audit(session, act, f"agreement_{action}", "institution", institution.id, document=document_no)
    credit_archive.sync_agreement_actions(session, act, [record.id or 0])
    ledger.lock_people(session, [p.id or 0 for p in people])
    for person in people:
        if action == "reinstated":
            _end_linked(session, act, person, institution.code, effective_from)
            continue  # a correction replays the person itself
        else:
            payload = {
                "kind": "suspension" if action == "suspended" else "termination",
                "start": effective_from.isoformat(),
                "end": until.isoformat() if action == "suspended" and until else None,
                "institution": institution.code,
                "cause": f"{institution.name}医保协议{'中止' if action == 'suspended' else '解除'}"
                f"（{document_no.strip()}）",
                "document_no": document_no.strip(),
            }
            ledger.append(session, act, person, "linked", decided_on, payload)
        timeline = ledger.recompute(session, person, decided_on)
        disclosure_feed.follow(session, person, decided_on, "agreement", timeline)
    return record


def _end_linked(
    session: Session, act: Act, person: Practitioner, institution_code: str, reinstated: date
) -> None:
    """End the person's linked suspensions from this institution the day before it was
    reinstated (a correction that supersedes the entry; the old one stays)."""
    last = reinstated - timedelta(days=1)
    for entry in ledger.live_entries(ledger.person_entries(session, person.id or 0)):
        data = json.loads(entry.payload)
        if entry.kind != "linked" or data.get("institution") != institution_code:
            continue
        if data["kind"] == "suspension" and data["end"] and date.fromisoformat(data["end"]) > last:
            end = max(last, date.fromisoformat(data["start"]))
            ledger.correct_entry(
                session,
                Act(
                    act.actor,
                    act.at,
                    f"机构恢复定点，关联暂停于 {end.isoformat()} 截止（湘细则第十条）",
                ),
                entry.id or 0,
                {"end": end.isoformat()},
                reinstated,
                cause="agreement",
            )
