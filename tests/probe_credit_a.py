"""Attacker probes of the credit feature (temporary; deleted after the report)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func
from sqlmodel import select

from portal.clock import china_today
from portal.credit_models import (
    BlacklistListing,
    CreditAttachment,
    CreditCatalogue,
    CreditCommitment,
    CreditCommitmentTemplate,
    CreditItem,
    CreditObjection,
    CreditRepair,
    CreditSubject,
)
from portal.db import make_engine, session_scope
from portal.identifiers import make_resident_id
from portal.models import FormSubmission, Job, QueryLog
from portal.services import blacklist, credit_subjects
from portal.services import credit_objections as objections
from portal.services import credit_repairs as repairs
from portal.services.accounts import create_account
from portal.services.registry import Act
from tests.admin.conftest import PASSWORD, Places, csrf_of, log_in, post_form, token_in
from tests.admin.conftest import admin_template, admin_url, places, site  # noqa: F401
from tests.portal.conftest import SECRET

AT = Act("setup", datetime.now(UTC), "probe")
TODAY = china_today()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
TABLES = (CreditItem, CreditObjection, CreditRepair, CreditAttachment, BlacklistListing,
          CreditSubject, CreditCommitment, CreditCommitmentTemplate, CreditCatalogue, Job,
          FormSubmission)  # fmt: skip


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with session_scope(engine) as s:
        out = {t.__name__: int(s.exec(select(func.count()).select_from(t)).one()) for t in TABLES}
    engine.dispose()
    return out


def seed(url: str, p: Places) -> dict[str, Any]:
    """For each city: a bad item, an open objection, a pending repair with papers, a listing;
    an individual subject; a commitment template; a 4306 credit officer."""
    engine = make_engine(url)
    ids: dict[str, Any] = {}
    with session_scope(engine, write=True) as s:
        create_account(s, AT, username="yycredit", role="credit_officer", password=PASSWORD,
                       region="4306", institution="", display_name="岳阳信用")  # fmt: skip
        for city, code, region in (("cs", p.changsha_doctor, "430102"),
                                   ("yy", p.yueyang_doctor, "430602")):  # fmt: skip
            item = CreditItem(subject_kind="practitioner", subject_key=code,
                              category="administrative", polarity="bad", source="supervision",
                              title=f"{city}处罚", occurred_on=date(2024, 1, 3),
                              **AT.stamp())  # fmt: skip
            s.add(item)
            item2 = CreditItem(subject_kind="practitioner", subject_key=code,
                               category="administrative", polarity="bad", source="supervision",
                               title=f"{city}处罚2", occurred_on=date(2024, 1, 3),
                               **AT.stamp())  # fmt: skip
            s.add(item2)
            s.flush()
            ob = objections.file_objection(
                s, AT, item_id=item.id, subject_kind="practitioner", subject_key=code,
                ground="wrong", statement="处罚已被撤销", applicant="某", filed_on=TODAY,
            )  # fmt: skip
            rep = repairs.apply_credit_repair(
                s, AT, item_id=item2.id, applicant="某", applied_on=TODAY,
                correction="已经整改完毕", secret=SECRET,
                attachments=[("application_form", "a.pdf", "application/pdf", PDF),
                             ("commitment_letter", "b.png", "image/png", PNG),
                             ("proof", "c.jpg", "image/jpeg", JPEG)],
            )  # fmt: skip
            lst = blacklist.propose(
                s, AT, subject_kind="practitioner", subject_key=code, grounds="理由",
                basis="依据", authority="医疗保障局", proposed_on=TODAY - timedelta(days=20),
                due_on=TODAY + timedelta(days=7),
            )  # fmt: skip
            att = s.exec(select(CreditAttachment).where(
                CreditAttachment.repair_id == rep.id)).first()  # fmt: skip
            ids[city] = {"item": item.id, "item2": item2.id, "objection": ob.id,
                         "repair": rep.id, "listing": lst.id, "attachment": att.id,
                         "code": code}  # fmt: skip
            person = credit_subjects.create_subject(
                s, AT, kind="other_individual", name=f"{city}个人", region=region,
                number=make_resident_id(region, date(1985, 6, 1), 7, "female"), secret=SECRET,
            )  # fmt: skip
            hidden = CreditItem(subject_kind="other_individual", subject_key=person.subject_key,
                                category="administrative", polarity="bad",
                                source="supervision", public=False,
                                title=f"{city}秘密不公开信息", occurred_on=date(2024, 1, 3),
                                **AT.stamp())  # fmt: skip
            s.add(hidden)
            s.flush()
            hob = objections.file_objection(
                s, AT, item_id=hidden.id, subject_kind="other_individual",
                subject_key=person.subject_key, ground="wrong", statement="这条不是我的",
                applicant="某", filed_on=TODAY,
            )  # fmt: skip
            ids[city].update(person=person.subject_key, hidden=hidden.id, hob=hob.id)
        t = CreditCommitmentTemplate(subject_kind="practitioner", version=1, title="承诺",
                                     text="我承诺", **AT.stamp())  # fmt: skip
        s.add(t)
        s.flush()
        ids["template"] = t.id
    engine.dispose()
    return ids


async def fresh_token(client: AsyncTestClient[Any], page: str) -> str:
    r = await client.get(page)
    try:
        return token_in(r.text)
    except AssertionError:
        return "tok-" + str(id(r))


def write_posts(ids: dict[str, Any], city: str) -> list[tuple[str, dict[str, str]]]:
    c = ids[city]
    code = c["code"]
    return [
        ("/admin/credit/subjects", {"kind": "other_individual", "name": "x", "region": "430102",
                                    "number": make_resident_id("430102", date(1990, 1, 1), 5,
                                                               "male")}),
        (f"/admin/credit/subjects/practitioner/{code}/items",
         {"category": "administrative", "polarity": "bad", "source": "supervision",
          "title": "新增", "occurred_on": "2025-01-01"}),
        (f"/admin/credit/items/{c['item']}/supersede",
         {"category": "administrative", "polarity": "bad", "source": "supervision",
          "title": "改", "occurred_on": "2025-01-01", "reason": "更正理由"}),
        (f"/admin/credit/items/{c['item']}/withdraw", {"reason": "撤回理由"}),
        (f"/admin/credit/subjects/practitioner/{code}/commitments",
         {"template_id": str(ids["template"]), "signed_by": "某", "signed_on": "2025-01-01"}),
        ("/admin/credit/commitment-templates", {"subject_kind": "practitioner", "title": "t",
                                                "text": "我承诺"}),
        ("/admin/credit/objections/new",
         {"subject_kind": "practitioner", "subject_key": code, "item_id": str(c["item2"]),
          "ground": "infringed", "statement": "侵犯权益了", "applicant": "某"}),
        (f"/admin/credit/objections/{c['objection']}/answer", {"upheld": "no", "answer": "不成立"}),
        (f"/admin/credit/repairs/{c['repair']}/decide", {"outcome": "refuse", "reasons": "不符合"}),
        ("/admin/credit/blacklist/propose-terminated", {}),
        ("/admin/credit/blacklist/new", {"subject_kind": "practitioner", "subject_key": code,
                                         "grounds": "g", "basis": "b", "authority": "a"}),
        (f"/admin/credit/blacklist/{c['listing']}/notice", {}),
        (f"/admin/credit/blacklist/{c['listing']}/withdraw", {"reason": "撤回"}),
        ("/admin/credit/catalogues", {"year": str(TODAY.year), "subject_kind": "doctors"}),
        ("/admin/credit/evaluations", {"action": "preview", "year": str(TODAY.year - 1)}),
        ("/admin/credit/consultations", {"year": str(TODAY.year - 1),
                                         "institution_code": "H43010200001", "opinion": "好"}),
    ]


async def test_roles_without_decide_change_nothing(site: Any, admin_url: str, places: Places) -> None:
    ids = seed(admin_url, places)
    before = counts(admin_url)
    bad = []
    for user in ("liming", "zhaoqiang", "liuyang", "sunli"):
        await log_in(site, user)
        for path, data in write_posts(ids, "cs"):
            r = await post_form(site, path, {**data, "form_token": f"t-{user}-{path}"})
            if r.status_code not in (403, 404):
                bad.append((user, path, r.status_code))
        # multipart
        r = await site.post("/admin/credit/repairs/new", data={
            "item_id": str(ids["cs"]["item"]), "applicant": "x", "correction": "xxxxx",
            "form_token": f"m-{user}", "_csrf_token": csrf_of(site)}, files=[
            ("application_form", ("a.pdf", PDF, "application/pdf"))], follow_redirects=False)
        if r.status_code not in (403, 404):
            bad.append((user, "repairs/new", r.status_code))
        r = await site.post("/admin/credit/imports", data={"form_token": f"i-{user}",
                                                           "_csrf_token": csrf_of(site)},
                            files=[("file", ("a.csv", b"x,y\n", "text/csv"))],
                            follow_redirects=False)  # fmt: skip
        if r.status_code not in (403, 404):
            bad.append((user, "imports", r.status_code))
    after = counts(admin_url)
    print("NON-DECIDE", bad, {k: (before[k], after[k]) for k in before if before[k] != after[k]})
    assert not bad and before == after


async def test_out_of_region_is_404(site: Any, admin_url: str, places: Places) -> None:
    ids = seed(admin_url, places)
    before = counts(admin_url)
    y = ids["yy"]
    gets = [f"/admin/credit/objections/{y['objection']}", f"/admin/credit/repairs/{y['repair']}",
            f"/admin/credit/repairs/{y['repair']}/attachments/{y['attachment']}?purpose=审核材料内容",
            f"/admin/credit/repairs/{ids['cs']['repair']}/attachments/{y['attachment']}?purpose=审核材料内容",
            f"/admin/credit/blacklist/{y['listing']}", f"/admin/credit/blacklist/{y['listing']}/notice.pdf",
            f"/admin/credit/subjects/practitioner/{y['code']}",
            f"/admin/credit/subjects/other_individual/{y['person']}",
            f"/admin/credit/objections/{y['hob']}"]  # fmt: skip
    bad = []
    for user in ("chenjing", "liuyang", "liming"):
        await log_in(site, user)
        for g in gets:
            r = await site.get(g, follow_redirects=False)
            if r.status_code != 404:
                bad.append((user, g, r.status_code))
        for path, data in write_posts(ids, "yy"):
            if path in ("/admin/credit/subjects", "/admin/credit/commitment-templates",
                        "/admin/credit/catalogues", "/admin/credit/evaluations",
                        "/admin/credit/blacklist/propose-terminated"):
                continue
            r = await post_form(site, path, {**data, "form_token": f"o-{user}-{path}"})
            if r.status_code not in (403, 404) and not (
                r.status_code == 400 and "本辖区" in r.text):
                bad.append((user, "POST " + path, r.status_code, r.text[:200]))
    # region of another city in a new subject, repair on a 4306 item
    await log_in(site, "chenjing")
    r = await post_form(site, "/admin/credit/subjects", {"kind": "other_individual", "name": "x",
                        "region": "430602", "number": make_resident_id(
                            "430602", date(1990, 1, 1), 5, "male"), "form_token": "rr1"})
    if r.status_code != 400:
        bad.append(("chenjing", "create in 4306", r.status_code))
    q = await site.get(f"/admin/credit/repairs/new")
    r = await site.post("/admin/credit/repairs/new", data={
        "item_id": str(y["item"]), "applicant": "x", "correction": "xxxxx",
        "form_token": token_in(q.text), "_csrf_token": csrf_of(site)}, files=[
        ("application_form", ("a.pdf", PDF, "application/pdf")),
        ("commitment_letter", ("b.png", PNG, "image/png")),
        ("proof", ("c.jpg", JPEG, "image/jpeg"))], follow_redirects=False)
    if r.status_code != 400:
        bad.append(("chenjing", "repair 4306 item", r.status_code))
    after = counts(admin_url)
    print("OUT-OF-REGION", bad, {k: (before[k], after[k]) for k in before if before[k] != after[k]})
    assert not bad


async def test_attachments_and_query_log(site: Any, admin_url: str, places: Places) -> None:
    ids = seed(admin_url, places)
    c = ids["cs"]
    url = f"/admin/credit/repairs/{c['repair']}/attachments/{c['attachment']}"
    out = {}
    for user in ("sunli", "liming", "zhaoqiang", "liuyang", "chenjing", "zhoumin"):
        await log_in(site, user)
        a = await site.get(url, follow_redirects=False)
        b = await site.get(url + "?purpose=审核信用修复材料", follow_redirects=False)
        e = await site.get(url + "?purpose=", follow_redirects=False)
        sp = await site.get(url + "?purpose=%20%20%20%20%20", follow_redirects=False)
        out[user] = (a.status_code, b.status_code, PDF in b.content, e.status_code,
                     sp.status_code, PDF in sp.content)
    engine = make_engine(admin_url)
    with session_scope(engine) as s:
        logs = [(q.actor, q.what) for q in s.exec(select(QueryLog))]
    print("ATTACH", out, logs)
    assert out["sunli"][1] == 403 and out["liming"][1] == 403 and out["liuyang"][1] in (403, 404)


async def test_hidden_individual_item_leaks_without_purpose(
    site: Any, admin_url: str, places: Places
) -> None:
    ids = seed(admin_url, places)
    c = ids["cs"]
    seen = {}
    for user in ("liming", "sunli", "chenjing"):
        await log_in(site, user)
        arch = await site.get(f"/admin/credit/subjects/other_individual/{c['person']}")
        obj = await site.get(f"/admin/credit/objections/{c['hob']}")
        queue = await site.get("/admin/credit/objections")
        seen[user] = (arch.status_code, "秘密不公开信息" in arch.text, obj.status_code,
                      "秘密不公开信息" in obj.text, "秘密不公开信息" in queue.text)
    engine = make_engine(admin_url)
    with session_scope(engine) as s:
        logs = list(s.exec(select(QueryLog)))
    print("HIDDEN", seen, len(logs))
    assert not any(v[3] for v in seen.values())


async def test_csrf(site: Any, admin_url: str, places: Places) -> None:
    ids = seed(admin_url, places)
    before = counts(admin_url)
    await log_in(site, "zhoumin")
    bad = []
    for path, data in write_posts(ids, "cs"):
        r = await post_form(site, path, {**data, "form_token": "c-" + path}, csrf=False)
        if r.status_code != 403:
            bad.append((path, r.status_code))
        r = await site.post(path, data={**data, "form_token": "d-" + path,
                                        "_csrf_token": "x" * 64}, follow_redirects=False)
        if r.status_code != 403:
            bad.append(("forged", path, r.status_code))
    r = await site.post("/admin/credit/repairs/new", data={"item_id": "1"},
                        files=[("proof", ("c.jpg", JPEG, "image/jpeg"))], follow_redirects=False)
    if r.status_code != 403:
        bad.append(("repairs/new", r.status_code))
    print("CSRF", bad)
    assert not bad and counts(admin_url) == before
