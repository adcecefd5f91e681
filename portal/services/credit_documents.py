"""The written answers of credit management, printed as A4 PDFs with the project's CJK font
(portal.services.printing draws them):

- 信用信息异议处理结果告知书 — the answer to an objection (Hunan-Credit Art. 24: "处理结果
  应当书面通知异议申请人"), ``objection_answer_pdf``;
- 信用修复决定书 — approval, or refusal with reasons (Art. 27: "书面告知"),
  ``repair_decision_pdf``.

The texts prescribe no form for either; these state who, what, the result, its reasons and
basis, and the date. This module only draws: callers gather what a document says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.services.printing import Para, Sheet, chinese_date, filled

AUTHORITY = "医疗保障信用管理部门"


@dataclass(frozen=True)
class ObjectionAnswer:
    document_no: str
    applicant: str
    subject: str  # the subject's name and key
    item: str  # the item objected to, or "" (missing information)
    ground: str  # in Chinese (credit_objections.GROUNDS)
    statement: str
    filed_on: date
    upheld: bool
    answer: str
    correction: str  # what changed in the archive, or ""
    answered_on: date
    authority: str = AUTHORITY


@dataclass(frozen=True)
class RepairDecision:
    document_no: str
    applicant: str
    subject: str
    item: str
    applied_on: date
    approved: bool
    reasons: str
    mark: str  # "YYYY年MM月DD日修复" on approval, else ""
    decided_on: date
    authority: str = AUTHORITY


def _close(sheet: Sheet, authority: str, day: date) -> None:
    sheet.para(Para(filled(authority, 9), "C", left=95, before=14))
    sheet.para(Para("（盖章）", "C", left=95, before=1))
    sheet.para(Para(chinese_date(day), "C", left=95, before=1))


def objection_answer_pdf(a: ObjectionAnswer) -> bytes:
    """信用信息异议处理结果告知书 (Hunan-Credit Art. 24)."""
    title = "信用信息异议处理结果告知书"
    sheet = Sheet(title, f"{title} {a.document_no}", size=12.5)
    sheet.title(title)
    sheet.text(a.document_no, align="C")
    sheet.space(4)
    sheet.text(f"{a.applicant}：", align="L")
    about = f"对信用信息“{a.item}”" if a.item else ""
    sheet.text(
        f"本单位于{chinese_date(a.filed_on)}收到你（单位）就信用主体{a.subject}{about}提出的"
        f"异议申请，异议理由为{a.ground}。",
        indent=2,
        before=2,
    )
    sheet.text(f"异议内容：{a.statement}", indent=2, before=1)
    result = "异议成立" if a.upheld else "异议不成立"
    sheet.text(f"经审核，{result}。{a.answer}", indent=2, before=1)
    if a.correction:
        sheet.text(f"信用档案已作如下处理：{a.correction}。", indent=2, before=1)
    sheet.text(
        "依据《湖南省医疗保障信用管理办法》第二十四条，现将处理结果书面告知。",
        indent=2,
        before=1,
    )
    _close(sheet, a.authority, a.answered_on)
    return sheet.output()


def repair_decision_pdf(d: RepairDecision) -> bytes:
    """信用修复决定书: approval or refusal with reasons (Hunan-Credit Art. 25-27)."""
    title = "信用修复决定书" if d.approved else "不予信用修复决定书"
    sheet = Sheet(title, f"{title} {d.document_no}", size=12.5)
    sheet.title(title)
    sheet.text(d.document_no, align="C")
    sheet.space(4)
    sheet.text(f"{d.applicant}：", align="L")
    sheet.text(
        f"你（单位）于{chinese_date(d.applied_on)}就信用主体{d.subject}的失信信息“{d.item}”"
        "提出信用修复申请，并提交了信用修复申请表、信用承诺书和纠正、整改情况材料。",
        indent=2,
        before=2,
    )
    if d.approved:
        sheet.text(
            f"经核实，符合《湖南省医疗保障信用管理办法》第二十五条规定的信用修复条件，"
            f"准予信用修复。{d.reasons}",
            indent=2,
            before=1,
        )
        sheet.text(
            f"该信息在信用档案中标记“{d.mark}”，并终止公示（第二十七条）。", indent=2, before=1
        )
    else:
        sheet.text(
            "经核实，不符合《湖南省医疗保障信用管理办法》第二十五条规定的信用修复条件，"
            f"不予信用修复。理由如下：{d.reasons}",
            indent=2,
            before=1,
        )
        sheet.text("符合条件后，可再次提出信用修复申请。", indent=2, before=1)
    sheet.text("依据《湖南省医疗保障信用管理办法》第二十七条，现书面告知。", indent=2, before=1)
    _close(sheet, d.authority, d.decided_on)
    return sheet.output()
