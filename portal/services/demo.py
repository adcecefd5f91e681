"""Deterministic demo data for Hunan: regions, hospitals, pharmacies, practitioners with
plausible names and valid ID numbers and credit codes, and a few years of cases, repairs,
appeals and restorations — so that every status and every list has entries.

Histories are decided by the engine before they are written: a repair or restoration the
rules would refuse is not recorded, and the status cache is the engine's own answer, so
``portal ledger verify`` agrees with the demo data by construction. Rows are written in
bulk (1,000,000 practitioners take minutes, not hours).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, text

from portal.crypto import seal
from portal.identifiers import id_digest, make_credit_code, make_resident_id
from portal.models import (
    Decision,
    Institution,
    LedgerEntry,
    Notice,
    Practitioner,
    Registration,
    StatusCache,
    table,
)
from portal.services import audit as audit_chain
from portal.services import cache, ledger_chain
from portal.services.ledger_chain import COLUMNS
from scoring.engine import evaluate
from scoring.model import Appeal, Event, Repair, Restore, Score
from scoring.rulesets import practitioner_ruleset

RULESET = "hunan-2025"
ACTOR = "demo-data"

# GB/T 2260 codes of Hunan districts and counties, with the city they belong to.
REGIONS: list[tuple[str, str, str]] = [
    ("430102", "长沙市", "芙蓉区"), ("430103", "长沙市", "天心区"), ("430104", "长沙市", "岳麓区"),
    ("430105", "长沙市", "开福区"), ("430111", "长沙市", "雨花区"), ("430112", "长沙市", "望城区"),
    ("430121", "长沙市", "长沙县"), ("430181", "长沙市", "浏阳市"), ("430182", "长沙市", "宁乡市"),
    ("430202", "株洲市", "荷塘区"), ("430203", "株洲市", "芦淞区"), ("430302", "湘潭市", "雨湖区"),
    ("430304", "湘潭市", "岳塘区"), ("430405", "衡阳市", "珠晖区"), ("430408", "衡阳市", "蒸湘区"),
    ("430502", "邵阳市", "双清区"), ("430602", "岳阳市", "岳阳楼区"), ("430702", "常德市", "武陵区"),
    ("430802", "张家界市", "永定区"), ("430902", "益阳市", "资阳区"), ("431002", "郴州市", "北湖区"),
    ("431102", "永州市", "零陵区"), ("431202", "怀化市", "鹤城区"), ("431302", "娄底市", "娄星区"),
    ("433101", "湘西土家族苗族自治州", "吉首市"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅飞鹏辉建国志斌波宇浩凯健俊帆晨欣怡佳琳雪婷颖倩"
HOSPITAL_KINDS = [
    "人民医院",
    "中医医院",
    "妇幼保健院",
    "中心医院",
    "第二人民医院",
    "社区卫生服务中心",
]
PHARMACY_CHAINS = ["老百姓大药房", "益丰大药房", "九芝堂大药房", "千金大药房", "养天和大药房"]
TITLES = {"doctor": ["住院医师", "主治医师", "副主任医师", "主任医师"],
          "nurse": ["护士", "护师", "主管护师"], "pharmacist": ["药师", "主管药师", "执业药师"],
          "technician": ["技士", "技师", "主管技师"]}  # fmt: skip
PREFIX = {"doctor": "D", "nurse": "N", "pharmacist": "HY", "technician": "HJ"}
BASIS = {
    "administrative_penalty": "《医疗保障基金使用监督管理条例》第三十八条",
    "agreement_action": "《医疗机构医疗保障定点管理暂行办法》第三十八条第（四）项",
}

Progress = Callable[[str, int], None]


@dataclass
class DemoSummary:
    institutions: int = 0
    practitioners: int = 0
    registrations: int = 0
    decisions: int = 0
    ledger_entries: int = 0
    notices: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(national_code: str) -> str:
    """A made-up mobile number (deterministic, without drawing from the shared stream)."""
    digits = int(hashlib.sha256(national_code.encode("ascii")).hexdigest()[:12], 16)
    return f"1{3 + digits % 7}{digits % 10**9:09d}"


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


class _Ids:
    """Explicit ids, continuing after what the database already holds."""

    def __init__(self, conn: Any) -> None:
        self.next: dict[str, int] = {}
        for model in (Institution, Practitioner, Registration, Decision, LedgerEntry, Notice):
            t = table(model)
            self.next[t.name] = (conn.execute(select(func.max(t.c.id))).scalar() or 0) + 1

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _history(rng: random.Random, as_of: date) -> Iterator[tuple[str, date, dict[str, Any], Event]]:
    """A person's cases and what followed them, as (kind, date, payload, engine event)."""
    first = date(2025, 3, 5)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        day = _day(rng, first, as_of)
        points = rng.choices(
            [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12], [18, 14, 14, 10, 8, 8, 6, 8, 5, 4, 5]
        )[0]
        payload = {
            "points": points,
            "cancels": False,
            "explain": f"{points} points",
            "violation": None,
        }
        yield "score", day, payload, Score(day, points, case="?")
        if rng.random() < 0.35:
            repair_day = day + timedelta(days=rng.randint(20, 120))
            score = rng.randint(70, 100)
            yield (
                "repair",
                repair_day,
                {"route": "exam", "param": score},
                Repair(repair_day, "exam", score),
            )
        if rng.random() < 0.05:
            appeal_day = day + timedelta(days=rng.randint(10, 40))
            corrected = max(0, points - rng.randint(1, points))
            yield "appeal", appeal_day, {"points": corrected}, Appeal(appeal_day, "?", corrected)


def generate(
    engine: Engine,
    practitioners: int,
    seed: int = 1,
    as_of: date = date(2026, 11, 1),
    *,
    secret: str,
    progress: Progress | None = None,
    batch: int = 5000,
) -> DemoSummary:
    """Write ``practitioners`` demo practitioners (and their institutions and histories)."""
    rng = random.Random(seed)
    now = datetime(as_of.year, as_of.month, as_of.day, 1, 0, tzinfo=UTC)
    stamp = {"recorded_by": ACTOR, "recorded_at": now, "reason": "演示数据"}
    summary = DemoSummary()
    models = (Institution, Practitioner, Registration, Decision, LedgerEntry, Notice, StatusCache)
    tables = {table(m).name: table(m) for m in models}
    with engine.begin() as conn:
        ids = _Ids(conn)
        # Institutions: about one hospital per 150 practitioners, one pharmacy per 100.
        hospitals: list[tuple[int, str, str]] = []
        pharmacies: list[tuple[int, str, str]] = []
        rows: list[dict[str, Any]] = []
        n_hosp = max(2, practitioners // 150)
        n_pharm = max(3, practitioners // 100)
        base = ids.next["institution"]
        for k in range(n_hosp + n_pharm):
            region, city, district = REGIONS[k % len(REGIONS)]
            iid = ids.take("institution")
            serial = base + k
            if k < n_hosp:
                kind, name = (
                    "hospital",
                    f"{city}{district}{HOSPITAL_KINDS[(k // len(REGIONS)) % len(HOSPITAL_KINDS)]}",
                )
                if k >= len(REGIONS) * len(HOSPITAL_KINDS):
                    name += f"（{serial}）"
                code = f"H{region}{serial:05d}"
                hospitals.append((iid, code, region))
                ownership, registrar = ("public", "12") if k % 4 else ("private", "52")
            else:
                chain = PHARMACY_CHAINS[k % len(PHARMACY_CHAINS)]
                kind, name = "pharmacy", f"{chain}（{district}第{serial}店）"
                code = f"P{region}{serial:05d}"
                pharmacies.append((iid, code, region))
                ownership, registrar = "private", "91"
            rows.append({
                "id": iid, "code": code, "name": name, "kind": kind, "region": region,
                "ownership": ownership, "ruleset": RULESET,
                "credit_code": make_credit_code(region, f"MA{serial:07d}", registrar), **stamp,
            })  # fmt: skip
        conn.execute(tables["institution"].insert(), rows)
        summary.institutions = len(rows)

        seq_by_region: dict[tuple[str, str], int] = {}
        people: list[dict[str, Any]] = []
        regs: list[dict[str, Any]] = []
        decisions: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        notices: list[dict[str, Any]] = []
        caches: list[dict[str, Any]] = []

        def flush(force: bool = False) -> None:
            for name, bucket in (("practitioner", people), ("registration", regs),
                                 ("decision", decisions), ("ledger_entry", entries),
                                 ("notice", notices), ("status_cache", caches)):  # fmt: skip
                if bucket and (force or len(bucket) >= batch):
                    conn.execute(tables[name].insert(), bucket)
                    if name == "ledger_entry":  # chained in id order (ledger_chain)
                        ledger_chain.append(conn, [{c: r.get(c) for c in COLUMNS} for r in bucket])
                    bucket.clear()

        pharmacy_index = 0
        born_count: dict[tuple[str, date, str], int] = {}
        for _n in range(practitioners):
            practice = rng.choices(
                ["doctor", "nurse", "pharmacist", "technician"], [45, 35, 12, 8]
            )[0]
            if practice == "pharmacist":
                iid, inst_code, region = pharmacies[pharmacy_index % len(pharmacies)]
                pharmacy_index += 1
            else:
                iid, inst_code, region = hospitals[rng.randrange(len(hospitals))]
            prefix = PREFIX[practice]
            seq = seq_by_region.get((prefix, region), 0) + 1
            seq_by_region[(prefix, region)] = seq
            width = 5 if len(prefix) == 1 else 6
            national_code = f"{prefix}{region}{seq:0{width}d}"
            gender = "female" if rng.random() < (0.8 if practice == "nurse" else 0.45) else "male"
            born = _day(rng, date(1962, 1, 1), date(1999, 12, 31))
            order = born_count.get((region, born, gender), 0)
            born_count[(region, born, gender)] = order + 1
            id_number = make_resident_id(region, born, order % 500, gender)
            pid = ids.take("practitioner")
            people.append({
                "id": pid, "national_code": national_code, "name": _name(rng),
                "id_digest": id_digest(id_number, secret), "id_reentry": False,
                "id_number_sealed": seal(secret, id_number, f"practitioner.id_number:{national_code}"),
                "birth_date_sealed": seal(secret, born.isoformat(), f"practitioner.birth_date:{national_code}"),
                "phone_sealed": seal(secret, _phone(national_code), f"practitioner.phone:{national_code}"),
                "gender": gender,
                "practice_type": practice, "category": "", "scope": "", "region": region,
                "title": rng.choice(TITLES[practice]), "ruleset": RULESET, **stamp,
            })  # fmt: skip
            signed = _day(rng, date(2025, 1, 2), date(2025, 2, 28))
            principal = practice == "pharmacist" and rng.random() < 0.3
            sites = [(iid, inst_code)]
            if practice == "doctor" and rng.random() < 0.06:
                other = hospitals[rng.randrange(len(hospitals))]
                if other[0] != iid:
                    sites.append((other[0], other[1]))
            if principal:
                for extra in range(rng.choice((1, 2))):
                    other = pharmacies[(pharmacy_index + extra) % len(pharmacies)]
                    if other[0] not in {s[0] for s in sites}:
                        sites.append((other[0], other[1]))
            status = "normal"
            if rng.random() < 0.12:
                status = _person_history(
                    rng, pid, sites[0][0], as_of, ids, stamp,
                    (decisions, entries, notices, caches), summary,
                )  # fmt: skip
            for site_id, _code in sites:
                regs.append({
                    "id": ids.take("registration"), "practitioner_id": pid,
                    "institution_id": site_id, "registered_on": signed,
                    "commitment_signed_on": signed, "principal": principal,
                    "multi_site": len(sites) > 1 and practice == "doctor", "status": status,
                    "deregistered_on": None, "deregistered_reason": "", **stamp,
                })  # fmt: skip
            summary.statuses[status] = summary.statuses.get(status, 0) + 1
            summary.registrations += len(sites)
            if len(people) >= batch:
                flush(force=True)
                if progress is not None:
                    progress("practitioners", batch)
        flush(force=True)
        if progress is not None:
            progress("practitioners", practitioners % batch)
        summary.practitioners = practitioners
        audit_chain.append(
            conn,
            [{"at": now, "actor": ACTOR, "action": "demo_data", "entity": "practitioner",
              "entity_id": None, "reason": "演示数据",
              "detail": json.dumps({"practitioners": practitioners, "seed": seed})}],
        )  # fmt: skip
        if conn.dialect.name == "postgresql":
            for name in (
                "institution",
                "practitioner",
                "registration",
                "decision",
                "ledger_entry",
                "notice",
            ):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"))  # fmt: skip
    _blacklist(engine, as_of)
    _disclosures(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # fresh statistics after a bulk load, for the planner
    return summary


def _disclosures(engine: Engine) -> None:
    """The disclosures feed of the demo's notices (``/feeds/disclosures.*``)."""
    from sqlmodel import Session

    from portal.services import disclosure_feed

    with Session(engine) as session:
        disclosure_feed.backfill(session)
        session.commit()


def _blacklist(engine: Engine, as_of: date, most: int = 60) -> None:
    """Some terminated practitioners on the blacklist (Hunan-Rules Art. 17): proposed, told
    the next day (Hunan-Credit Art. 35), listed the day after the objection period where
    that is before ``as_of``; those listed over 3 years ago removed. The rest stay proposed
    or noticed, for the admin queue. At most ``most`` proposals (the bulk data stays fast)."""
    from sqlmodel import Session

    from portal.services import blacklist
    from portal.services.registry import Act

    def at(day: date) -> Act:
        return Act(ACTOR, datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC), "演示数据")

    with Session(engine) as session:
        for n, proposal in enumerate(
            blacklist.propose_terminated(session, at(as_of), as_of, limit=most)
        ):
            told = proposal.proposed_on + timedelta(days=1)
            if n % 5 == 4 or told > as_of:
                continue
            noticed = blacklist.issue_prior_notice(session, at(told), proposal.id or 0, on=told)
            assert noticed.objection_due_on is not None
            listed_on = noticed.objection_due_on + timedelta(days=1)
            if listed_on <= as_of:
                blacklist.list_subject(session, at(listed_on), proposal.id or 0,
                                       listed_on=listed_on)  # fmt: skip
        blacklist.end_publications(session, at(as_of), as_of)
        session.commit()


def _person_history(
    rng: random.Random,
    pid: int,
    institution_id: int,
    as_of: date,
    ids: _Ids,
    stamp: dict[str, Any],
    buckets: tuple[list[dict[str, Any]], ...],
    summary: DemoSummary,
) -> str:
    """Cases, repairs, appeals and restorations for one person, as the engine accepts them."""
    decisions, entries, notices, caches = buckets
    ruleset = practitioner_ruleset(RULESET)
    planned: list[tuple[str, date, dict[str, Any], int]] = []  # kind, day, payload, decision
    decision = 0
    for kind, day, payload, _event in _history(rng, as_of):
        if day > as_of:
            continue
        if kind == "score":
            decision = ids.take("decision")
            decision_type = rng.choice(list(BASIS))
            decisions.append({
                "id": decision, "institution_id": institution_id,
                "decision_type": decision_type, "legal_basis": BASIS[decision_type],
                "document_no": f"湘医保{'罚' if decision_type == 'administrative_penalty' else '协'}"
                               f"〔{day.year}〕{decision}号",
                "decision_date": day, "amount": None, "ruleset": RULESET, **stamp,
            })  # fmt: skip
            summary.decisions += 1
        planned.append((kind, day, payload, decision))
    planned.sort(key=lambda p: p[1])

    def events_of(plan: list[tuple[str, date, dict[str, Any], int]]) -> list[Event]:
        out: list[Event] = []
        for kind, day, payload, dec in plan:
            if kind == "score":
                out.append(Score(day, payload["points"], case=str(dec)))
            elif kind == "repair":
                out.append(Repair(day, payload["route"], payload["param"]))
            elif kind == "appeal":
                out.append(Appeal(day, str(dec), payload["points"]))
            else:
                out.append(Restore(day))
        return out

    timeline = evaluate(ruleset, events_of(planned))
    planned = [
        p for p, o in zip(planned, timeline.outcomes, strict=True) if o.accepted is not False
    ]
    timeline = evaluate(ruleset, events_of(planned))
    status = timeline.status_on(as_of)
    if status.restoration_pending and rng.random() < 0.6:
        last = status.period_end or (status.reregister_from or as_of) - timedelta(days=1)
        day = last + timedelta(days=rng.randint(1, 40))
        if day <= as_of:
            trial = [*planned, ("restore", day, {}, 0)]
            attempt = evaluate(ruleset, events_of(trial))
            if attempt.outcomes[-1].accepted:
                planned, timeline = trial, attempt
    last_id = 0
    for kind, day, payload, dec in planned:
        last_id = ids.take("ledger_entry")
        entries.append({
            "id": last_id, "practitioner_id": pid, "kind": kind, "event_date": day,
            "decision_id": dec if kind in ("score", "appeal") else None,
            "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
            "supersedes_id": None, **stamp,
        })  # fmt: skip
        if kind == "score":
            issued = day + timedelta(days=3)
            caused = [p for p in timeline.periods if p.decided_on == day]
            period = caused[-1] if caused else None
            notices.append({
                "id": ids.take("notice"), "decision_id": dec, "practitioner_id": pid,
                "document_no": f"医保记分通〔{day.year}〕{dec:07d}号", "issued_on": issued,
                "points": payload["points"], "year_points": timeline.year_points_on(day),
                "status": "normal" if period is None else period.kind.replace(
                    "suspension", "suspended").replace("termination", "terminated"),
                "period_start": period.start if period else None,
                "period_end": period.end if period else None,
                "reregister_from": period.reregister_from if period else None,
                "appeal_due": None, "delivered_on": issued + timedelta(days=2),
                "delivered_to": "所在定点医药机构", **stamp,
            })  # fmt: skip
            summary.notices += 1
    summary.ledger_entries += len(planned)
    caches.append(
        {"practitioner_id": pid, "ledger_seq": last_id, "timeline": cache.encode(timeline)}
    )
    return timeline.status_on(as_of).status
