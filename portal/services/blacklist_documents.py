"""The blacklist's documents, printed (A4, fpdf2 with the CJK font of portal.services.printing):

- 拟列入严重失信主体名单事先告知书 (``prior_notice_pdf``): before the decision the party is
  told the reasons (事由), the basis (依据) and its rights, with the objection deadline
  (Hunan-Credit Art. 35: 五个工作日内反馈; the suggested objection date is the credit
  ruleset's ``blacklist_objection`` step). Art. 35 sets no filing deadline, so the notice
  does not say a late objection is waived: 可在…前提出异议；逾期提出的，在作出决定前仍予核实;
- 列入严重失信主体名单决定书 (``decision_pdf``): the administrative decision document that
  states 事由、依据、失信惩戒措施提示、移出条件和程序以及救济措施 (Art. 35), the publication
  period (3 years from 认定之日, Art. 33(1), RULES I-19), the Art. 33(4) bar where it applies,
  and for a practitioner the appeal within 10 working days (Hunan-Rules Art. 19).

The texts give no template for either: the layout follows the portal's other notices.
"""

from __future__ import annotations

from datetime import date

from portal.credit_models import BlacklistListing
from portal.services.blacklist import APPEAL_DAYS, BAR_YEARS, KIND_ZH, ROLE_ZH, publication_years
from portal.services.printing import Para, Sheet, chinese_date
from scoring.deadlines import due_date
from scoring.rulesets import credit_ruleset, practitioner_ruleset

PRACTITIONER_RULESET = "hunan-2025"


def _party(sheet: Sheet, listing: BlacklistListing, code: str) -> None:
    kind = KIND_ZH.get(listing.subject_kind, listing.subject_kind)
    sheet.text(f"当事人：{listing.name}", align="L", before=1.0)
    sheet.text(f"主体类别：{kind}{SPACE_CODE}{code}", align="L", before=1.0)
    if listing.role:
        role = ROLE_ZH[listing.role]
        sheet.text(f"身份：{role}（所涉机构名单记录 #{listing.related_listing_id}）", align="L",
                   before=1.0)  # fmt: skip


SPACE_CODE = "　代码："


def _heading(sheet: Sheet, text: str) -> None:
    sheet.text(text, align="L", before=3.0)


def prior_notice_pdf(listing: BlacklistListing, code: str) -> bytes:
    """拟列入严重失信主体名单事先告知书 (Hunan-Credit Art. 35). ``code``: the public code."""
    title = "拟列入严重失信主体名单事先告知书"
    sheet = Sheet(title, f"事先告知书 {listing.notice_no}")
    sheet.title("拟列入医疗保障领域严重失信主体名单", "事先告知书")
    sheet.text(f"文号：{listing.notice_no}", align="R")
    _party(sheet, listing, code)
    sheet.text(
        "经查，本机关拟将你（单位）列入医疗保障领域失信联合惩戒对象名单（严重失信主体名单）。"
        "根据《湖南省医疗保障信用管理办法》第三十五条，现将拟作出决定的事由、依据和你（单位）"
        "依法享有的权利告知如下：",
        indent=2,
        before=3.0,
    )
    _heading(sheet, "一、事由")
    sheet.text(listing.grounds, indent=2)
    _heading(sheet, "二、依据")
    sheet.text(listing.basis, indent=2)
    _heading(sheet, "三、拟采取的失信惩戒措施")
    sheet.text(listing.measures, indent=2)
    _heading(sheet, "四、你（单位）依法享有的权利")
    sheet.text(
        "你（单位）有权进行陈述、申辩，并对拟列入名单的事实、理由和依据提出异议。本机关将予以"
        "核实，并在收到异议之日起五个工作日内反馈结果（湖南信用办法第三十五条）。",
        indent=2,
    )
    _heading(sheet, "五、异议期限")
    step = credit_ruleset("hunan-credit-2024").deadlines["blacklist_objection"]
    sheet.text(
        f"你（单位）可在{chinese_date(listing.objection_due_on)}前（本告知书送达后"
        f"{step.working_days}个工作日内）以书面形式提出异议，并附相关证明材料；逾期提出的，"
        "在本机关作出决定前仍予核实，并在收到异议之日起五个工作日内反馈结果。",
        indent=2,
    )
    for p in _signature(listing.authority, listing.noticed_on):
        sheet.para(p)
    return sheet.output()


def _signature(authority: str, day: date | None) -> list[Para]:
    return [
        Para(authority, "C", left=85, before=12),
        Para("（印章）", "C", left=85, before=1),
        Para(chinese_date(day), "C", left=85, before=1),
    ]


def appeal_due(listing: BlacklistListing) -> date | None:
    """A practitioner appeals within 10 working days (Hunan-Rules Art. 19): the last day
    when the decision is delivered on the day it is made (the practitioner ruleset's
    ``appeal`` step; RULES I-9)."""
    if listing.subject_kind != "practitioner" or listing.listed_on is None:
        return None
    rules = practitioner_ruleset(PRACTITIONER_RULESET)
    return due_date(rules, "appeal", listing.listed_on).due


def decision_pdf(listing: BlacklistListing, code: str) -> bytes:
    """列入严重失信主体名单决定书 (Hunan-Credit Art. 33, 35): 事由、依据、失信惩戒措施提示、
    移出条件和程序、救济措施; the publication period and, for Art. 33(4), the bar."""
    title = "列入严重失信主体名单决定书"
    sheet = Sheet(title, f"决定书 {listing.document_no}")
    sheet.title("列入医疗保障领域严重失信主体名单", "决定书")
    sheet.text(f"文号：{listing.document_no}", align="R")
    _party(sheet, listing, code)
    notice = (
        f"本机关于{chinese_date(listing.noticed_on)}以{listing.notice_no}告知你（单位）拟作出"
        "本决定的事由、依据和依法享有的权利。"
    )
    if listing.objection_on is not None:
        notice += f"你（单位）于{chinese_date(listing.objection_on)}提出异议，本机关答复：" + (
            listing.objection_answer or "（尚未答复）"
        )
    else:
        notice += "你（单位）在规定期限内未提出异议。"
    sheet.text(notice, indent=2, before=3.0)
    sheet.text(
        f"本机关决定自{chinese_date(listing.listed_on)}（认定之日）起将你（单位）列入医疗保障"
        "领域失信联合惩戒对象名单（严重失信主体名单）。",
        indent=2,
    )
    _heading(sheet, "一、事由")
    sheet.text(listing.grounds, indent=2)
    _heading(sheet, "二、依据")
    sheet.text(listing.basis, indent=2)
    _heading(sheet, "三、失信惩戒措施提示")
    years = publication_years()
    sheet.text(
        f"通过信用湖南、医疗保障部门官方网站向社会公开严重失信信息，信息保存和公示期为{years}年，"
        f"自认定之日起计算，至{chinese_date(listing.publish_until)}移出（湖南信用办法第三十三条"
        "第（一）项）；相关信息实时推送至省社会信用信息共享交换平台和“信用中国"
        "（湖南）”网站（第二十八条）。",
        indent=2,
    )
    sheet.text(listing.measures, indent=2)
    if listing.role:
        sheet.text(
            f"你作为所涉机构的{ROLE_ZH[listing.role]}，依法{BAR_YEARS}年内（至"
            f"{chinese_date(listing.bar_until)}）禁止从事定点医药机构管理活动，并列入严重失信"
            "人员名单（湖南信用办法第三十三条第（四）项）。",
            indent=2,
        )
    _heading(sheet, "四、移出条件和程序")
    minimum = credit_ruleset("hunan-credit-2024").minimum_publication_years
    sheet.text(
        f"（一）公示期满自动移出：自认定之日起满{years}年，本机关终止公示并移出名单。",
        indent=2,
    )
    sheet.text(
        f"（二）信用修复：同时符合下列条件的，可向本机关提出信用修复申请（湖南信用办法第二十五条"
        f"至第二十七条）：1. 已过最短公示期（{minimum}年）；2. 已纠正失信行为、"
        "履行相关义务，社会不良影响基本消除；3. 公示期内未再发生失信行为。申请时提交信用修复"
        "申请书、信用承诺书和相关证明材料；本机关受理后及时核实，符合条件的予以修复并书面告知，"
        "在信用档案中标记“某年某月某日修复”后终止公示；不符合条件的，不予修复并书面告知理由。",
        indent=2,
    )
    _heading(sheet, "五、救济措施")
    remedy = (
        "如不服本决定，可以在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法"
        "向人民法院提起行政诉讼。"
    )
    due = appeal_due(listing)
    if due is not None:
        remedy = (
            f"你可在收到本决定书之日起{APPEAL_DAYS}个工作日内向本机关提出书面申诉（湖南细则"
            f"第十九条；当日送达的，至{chinese_date(due)}），本机关在{APPEAL_DAYS}个工作日内"
            "答复。" + remedy
        )
    sheet.text(remedy, indent=2)
    for p in _signature(listing.authority, listing.listed_on):
        sheet.para(p)
    return sheet.output()
