"""The credit-repair screens (Hunan-Credit Art. 25-27) per role: the multipart application
with its three papers, the decision and its PDF, and the papers never shown without the
right and a stated purpose."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlmodel import select

from portal.credit_models import CreditAttachment
from portal.db import make_engine, session_scope
from portal.models import QueryLog
from tests.admin.conftest import Places, csrf_of, log_in, post_form, token_in
from tests.admin.test_credit_objections import seed

PATH = "/admin/credit/repairs"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def papers(proof: tuple[str, bytes, str] = ("整改材料.jpg", JPEG, "image/jpeg")) -> list[Any]:
    return [
        ("application_form", ("申请表.pdf", PDF, "application/pdf")),
        ("commitment_letter", ("承诺书.png", PNG, "image/png")),
        ("proof", proof),
    ]


async def apply(client: AsyncTestClient[Any], item: int, **kw: Any) -> Any:
    form = await client.get(f"{PATH}/new")
    assert form.status_code == 200
    data = {"item_id": str(item), "applicant": "张伟", "applied_on": "",
            "correction": "已退回违规费用并完成整改", "form_token": token_in(form.text),
            "_csrf_token": csrf_of(client)}  # fmt: skip
    files = kw.pop("files", papers())
    return await client.post(f"{PATH}/new", data={**data, **kw}, files=files,
                             follow_redirects=False)  # fmt: skip


async def test_application_decision_and_pdf(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    item, _ = seed(admin_url, places.changsha_doctor, objection=False)
    client = await as_user("liming")
    assert (await client.get(f"{PATH}/new")).status_code == 403
    await log_in(site, "chenjing")
    done = await apply(site, item)
    assert done.status_code == 303, done.text[:500]
    target = done.headers["location"]
    page = await site.get(target)
    assert "申请表.pdf" in page.text and "承诺书.png" in page.text and "待审核" in page.text
    token = token_in(page.text)
    refused = await post_form(site, f"{target}/decide", {"outcome": "refuse", "reasons": "",
                                                         "form_token": token})  # fmt: skip
    assert refused.status_code == 400 and "写明理由" in refused.text
    approved = await post_form(site, f"{target}/decide", {"outcome": "approve", "reasons": "",
                                                          "harm_removed": "on",
                                                          "form_token": token})  # fmt: skip
    assert approved.status_code == 303
    page = await site.get(target)
    assert "准予修复" in page.text and "日修复" in page.text
    pdf = await site.get(f"{target}/decision.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    await log_in(site, "sunli")  # the auditor reads
    assert (await site.get(target)).status_code == 200
    assert "提交决定" not in (await site.get(target)).text
    await log_in(site, "wangfang")
    assert (await site.get(target)).status_code == 404
    assert f'href="{target}"' not in (await site.get(PATH)).text


async def test_papers_checked_by_their_bytes(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    item, _ = seed(admin_url, places.changsha_doctor, objection=False)
    client = await as_user("chenjing")
    fake = await apply(client, item, files=papers(("整改材料.pdf", PNG, "application/pdf")))
    assert fake.status_code == 400 and "文件名与内容不符" in fake.text
    assert "已退回违规费用并完成整改" in fake.text  # what was typed stays
    exe = await apply(
        client, item, files=papers(("setup.exe", b"MZ\x90\x00" * 8, "application/pdf"))
    )
    assert exe.status_code == 400 and "不是 PDF、PNG 或 JPEG" in exe.text
    missing = await apply(client, item, files=papers()[1:])
    assert missing.status_code == 400 and "缺少信用修复申请表" in missing.text


async def test_papers_only_to_credit_officers_after_a_purpose(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    item, _ = seed(admin_url, places.changsha_doctor, objection=False)
    client = await as_user("chenjing")
    target = (await apply(client, item)).headers["location"]
    engine = make_engine(admin_url)
    with session_scope(engine) as session:
        first = session.exec(select(CreditAttachment).order_by(CreditAttachment.id)).first()  # type: ignore[arg-type]
        assert first is not None
        paper = f"{target}/attachments/{first.id}"
    asked = await client.get(paper)
    assert asked.status_code == 200 and "查询目的" in asked.text and "%PDF" not in asked.text
    short = await client.get(paper, params={"purpose": "看"})
    assert short.status_code == 400 and "至少 4 个字" in short.text
    got = await client.get(paper, params={"purpose": "审核信用修复申请材料"})
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    with session_scope(engine) as session:
        looks = session.exec(select(QueryLog).where(QueryLog.what == "attachment")).all()
        assert [(q.actor, q.purpose) for q in looks] == [("chenjing", "审核信用修复申请材料")]
    engine.dispose()
    for who, status in (("liming", 403), ("liuyang", 403), ("sunli", 403), ("wangfang", 404)):
        await log_in(site, who)
        answer = await site.get(paper, params={"purpose": "审核信用修复申请材料"})
        assert answer.status_code == status, who
        assert answer.content != PDF
    await log_in(site, "zhoumin")
    assert (await site.get(paper, params={"purpose": "省级抽查材料"})).content == PDF
    await site.post("/admin/logout", data={"_csrf_token": csrf_of(site)})
    stranger = await site.get(paper, params={"purpose": "随便看看"}, follow_redirects=False)
    assert stranger.status_code == 303 and stranger.content != PDF


async def test_large_papers_within_the_limit_and_oversize_refused(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    item, _ = seed(admin_url, places.changsha_doctor, objection=False)
    client = await as_user("chenjing")
    big = PDF + b"0" * (10 * 1024 * 1024)  # just over 10 MB
    over = await apply(client, item, files=papers(("整改材料.pdf", big, "application/pdf")))
    assert over.status_code == 400 and "超过 10 MB" in over.text
    scan = PDF + b"0" * (3 * 1024 * 1024)  # above the admin's usual 1 MB body limit
    done = await apply(client, item, files=papers(("整改材料.pdf", scan, "application/pdf")))
    assert done.status_code == 303
