"""The forms, printed: A4 PDFs in an embedded Noto Serif SC (SIL OFL 1.1), made with fpdf2.

Each form is the regulation's own annex, its wording kept and its blanks filled:

- 处理通知书 — National-Procedure Annex 3 (``processing_notice_pdf``);
- 责任认定通知书 — Hunan-Rules Annex 1 (``responsibility_notice_pdf``), printed with 10
  working days for objections, as Hunan-Rules Art. 19 says, not the annex's 7 (RULES I-11);
- 医保支付资格处理情况告知书 — Hunan-Rules Annex 3 (``self_pay_notice_pdf``), what an
  institution gives a patient who still asks for a suspended or terminated practitioner
  (Hunan-Rules Art. 11: the services are self-paid);
- 记分情况抄告书 — National-Procedure Annex 7 (``copy_to_notice_pdf``).

A blank the data cannot fill (a signature, a patient's name, a date written by hand) stays an
underlined blank, as on the annex. Lines are broken here, not by fpdf2 (which breaks only at
spaces): a line may end after any Chinese character, but closing punctuation never starts a
line and opening punctuation never ends one (the line-breaking rules of W3C "Requirements
for Chinese Text Layout", 3.1.7), Latin words and numbers stay whole, and every line of a
paragraph but its last is justified to the full measure.

This module only draws: the callers gather what a form says (admin/notices.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from fpdf import FPDF
from fpdf.enums import TextMode
from pylopdf_fonts_zh_cn import serif_path

FONT = "NotoSerifSC"
PAGE_W, PAGE_H = 210.0, 297.0  # A4, mm
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 20.0, 22.0, 20.0
MEASURE = PAGE_W - 2 * MARGIN_X  # 170 mm
MM_PER_PT = 25.4 / 72
BLANK = "\ue000"  # one em of underlined blank, to be filled in by hand
CHECKED, UNCHECKED = "■", "□"
SPACE = "\u3000"  # the ideographic space between a form's choices
# W3C clreq 3.1.7: characters not to start a line, and not to end one.
NO_START = frozenset("，。、；：？！）］｝〕〉》」』】〗”’…—·％,.;:?!)]}%")
NO_END = frozenset("（［｛〔〈《「『【〖“‘([{")
_TOKENS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-/:%*]*|\ue000+|\s|.", re.S)

Align = Literal["J", "L", "C", "R"]


def chinese_date(day: date | None) -> str:
    """2025年9月24日; a missing date is the form's own blank, 年　月　日."""
    if day is None:
        return f"{BLANK * 3}年{BLANK * 2}月{BLANK * 2}日"
    return f"{day.year}年{day.month}月{day.day}日"


def box(checked: bool) -> str:
    return CHECKED if checked else UNCHECKED


def filled(value: str | int | None, blank_ems: int = 4) -> str:
    """The value, or an underlined blank of ``blank_ems`` characters."""
    text = "" if value is None else str(value).strip()
    return text or BLANK * blank_ems


# --- the forms' data -------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    gender: str  # 男 / 女, or "" (left blank)
    id_masked: str  # "" leaves the cell blank, to be written by hand
    national_code: str
    institution: str  # 所属单位


@dataclass(frozen=True)
class ProcessingNotice:
    """National-Procedure Annex 3."""

    document_no: str
    institution: str  # 定点医药机构名称: where the case happened
    person: Person
    violation: str
    points: int
    year_points: int
    measure: Literal["talk", "suspension", "termination", "none"]
    months: int | None  # a suspension's length, when it is whole months
    years: int | None  # a termination's ban
    start: date | None
    last_day: date | None
    issued_on: date


@dataclass(frozen=True)
class ResponsibilityNotice:
    """Hunan-Rules Annex 1."""

    document_no: str  # "" leaves it blank
    person: Person
    violation: str
    bureau_place: str  # "长沙市" of "长沙市医疗保障局"; "" leaves it blank
    legal_basis: str
    penalty: bool | None  # True 行政处罚, False 免予行政处罚, None: neither ticked
    decision_no: str
    responsibility: str | None  # general | important | main
    issued_on: date | None
    objection_days: int = 10  # RULES I-11: Hunan-Rules Art. 19, not the annex's 7


@dataclass(frozen=True)
class SelfPayNotice:
    """Hunan-Rules Annex 3."""

    practitioner: str
    violation: str
    bureau_place: str
    restriction: Literal["suspended", "terminated"]


@dataclass(frozen=True)
class CopyToNotice:
    """National-Procedure Annex 7."""

    recipient: str  # 抄告单位; "" leaves it blank
    finding: str  # what 发现 names: the institution, the person and what they did
    points: int
    year_points: int | None  # None: not stated (a copy to the agency: this case's points only)
    materials: tuple[str, ...]  # 抄告材料清单
    sender: str  # 医疗保障行政单位名称; "" leaves it blank
    issued_on: date | None


# --- typesetting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Para:
    """One paragraph: ``left`` (mm) moves the whole paragraph in, as the annexes place their
    seal and date lines; ``indent`` is the first line's indent in characters."""

    text: str
    align: Align = "J"
    indent: int = 0
    before: float = 0.0  # space above, mm
    left: float = 0.0
    size: float | None = None


@dataclass(frozen=True)
class Cell:
    width: float
    paras: Sequence[Para] = ()
    valign: Literal["T", "M"] = "M"

    @classmethod
    def label(cls, width: float, text: str) -> Cell:
        return cls(width, [Para(line, "C") for line in text.split("\n")])

    @classmethod
    def value(cls, width: float, text: str, align: Align = "L") -> Cell:
        return cls(width, [Para(text, align)])


@dataclass
class _Line:
    tokens: list[str] = field(default_factory=list)
    last: bool = False  # the paragraph's last line: not justified


class Sheet:
    """One A4 form: a title, paragraphs and ruled tables, drawn top to bottom."""

    def __init__(self, title: str, subject: str, size: float = 12.0) -> None:
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_title(title)
        pdf.set_subject(subject)
        pdf.set_creator("医保支付资格与信用管理")
        pdf.set_lang("zh-CN")
        pdf.set_auto_page_break(False)  # rows are kept whole by Sheet itself
        pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
        pdf.add_font(FONT, "", str(serif_path()))
        pdf.c_margin = 0
        pdf.add_page()
        self.pdf = pdf
        self.size = size
        self.y = MARGIN_TOP
        self._font(size)

    # fonts and measures

    def _font(self, size: float) -> None:
        self.pdf.set_font(FONT, size=size)
        self._current = size

    def _em(self, size: float) -> float:
        return size * MM_PER_PT

    def _line_h(self, size: float) -> float:
        return size * MM_PER_PT * 1.55

    def _width(self, token: str, size: float) -> float:
        if token[0] == BLANK:
            return len(token) * self._em(size)
        return _string_width(self.pdf, token, size)

    # line breaking

    def _tokens(self, text: str, width: float, size: float) -> list[str]:
        out: list[str] = []
        for token in _TOKENS.findall(text):
            if len(token) > 1 and token[0] != BLANK and self._width(token, size) > width:
                out.extend(token)  # a Latin run wider than the measure: break it anywhere
            else:
                out.append(token)
        return out

    def lines(self, text: str, width: float, size: float, indent: int = 0) -> list[_Line]:
        lines: list[_Line] = []
        for paragraph in text.split("\n"):
            first = len(lines)
            current = _Line()
            used = indent * self._em(size)
            avail = width
            for token in self._tokens(paragraph, width, size):
                w = self._width(token, size)
                if token.isspace() and not current.tokens:
                    continue  # no space starts a line
                if used + w <= avail + 0.01:
                    current.tokens.append(token)
                    used += w
                    continue
                if token.isspace():
                    lines.append(current)
                    current, used = _Line(), 0.0
                    continue
                carry: list[str] = []
                if token[0] in NO_START and len(current.tokens) > 1:
                    carry.insert(0, current.tokens.pop())  # take a character down with it
                while len(current.tokens) > 1 and current.tokens[-1][-1] in NO_END:
                    carry.insert(0, current.tokens.pop())
                lines.append(current)
                current = _Line([*carry, token])
                used = sum(self._width(t, size) for t in current.tokens)
            current.last = True
            if len(lines) > first and _orphan(current) and len(lines[-1].tokens) > 3:
                # No paragraph ends on a line of one character: take one more down.
                previous = lines[-1]
                current.tokens.insert(0, previous.tokens.pop())
                while len(previous.tokens) > 1 and previous.tokens[-1][-1] in NO_END:
                    current.tokens.insert(0, previous.tokens.pop())
            lines.append(current)
            indent = 0
        for line in lines:
            while line.tokens and line.tokens[-1].isspace():
                line.tokens.pop()
        return lines

    def _height(self, para: Para, width: float) -> float:
        size = para.size or self.size
        return para.before + len(
            self.lines(para.text, width - para.left, size, para.indent)
        ) * self._line_h(size)

    def _draw(self, para: Para, x: float, y: float, width: float) -> float:
        """Draw one paragraph from (x, y); returns the y below it."""
        size = para.size or self.size
        self._font(size)
        y += para.before
        x += para.left
        width -= para.left
        line_h = self._line_h(size)
        for n, line in enumerate(self.lines(para.text, width, size, para.indent)):
            start = x + (para.indent * self._em(size) if n == 0 else 0.0)
            avail = x + width - start
            widths = [self._width(t, size) for t in line.tokens]
            natural = sum(widths)
            gap = 0.0
            if para.align == "C":
                start += (avail - natural) / 2
            elif para.align == "R":
                start += avail - natural
            elif para.align == "J" and not line.last and len(line.tokens) > 1:
                gap = (avail - natural) / (len(line.tokens) - 1)
                if gap > self._em(size):  # a line of a few long words: leave it ragged
                    gap = 0.0
            cursor = start
            for token, w in zip(line.tokens, widths, strict=True):
                if token[0] == BLANK:
                    base = y + line_h * 0.78
                    self.pdf.set_line_width(0.2)
                    self.pdf.line(cursor, base, cursor + w, base)
                elif not token.isspace():
                    self.pdf.set_xy(cursor, y)
                    self.pdf.cell(w, line_h, token)
                cursor += w + gap
            y += line_h
        return y

    # the page

    def _room(self, height: float) -> None:
        if self.y + height > PAGE_H - MARGIN_BOTTOM:
            self.pdf.add_page()
            self.y = MARGIN_TOP

    def title(self, *lines: str, size: float = 18.0) -> None:
        """The form's title, centred, in a heavier stroke (the font has one weight: the
        glyphs are filled and outlined, as a bold face would print)."""
        pdf = self.pdf
        self._font(size)
        # In a local context (q … Q): fpdf2 leaves a Tr set outside one in force for all
        # the text after it.
        with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.18):
            for line in lines:
                h = self._line_h(size) * 1.05
                pdf.set_xy(MARGIN_X, self.y)
                pdf.cell(MEASURE, h, line, align="C")
                self.y += h
        self.y += 3
        self._font(self.size)

    def para(self, para: Para) -> None:
        self._room(self._height(para, MEASURE))
        self.y = self._draw(para, MARGIN_X, self.y, MEASURE)

    def text(self, text: str, **kwargs: object) -> None:
        self.para(Para(text, **kwargs))  # type: ignore[arg-type]

    def space(self, mm: float) -> None:
        self.y += mm

    def row(self, cells: Sequence[Cell], min_height: float = 0.0, size: float = 10.5) -> None:
        """One ruled table row: each cell's paragraphs, the row as tall as its tallest cell."""
        pad_x, pad_y = 1.6, 1.4
        saved, self.size = self.size, size
        heights = [
            sum(self._height(p, c.width - 2 * pad_x) for p in c.paras) + 2 * pad_y for c in cells
        ]
        height = max([min_height, *heights])
        self._room(height)
        x = MARGIN_X
        self.pdf.set_line_width(0.3)
        for cell, content in zip(cells, heights, strict=True):
            self.pdf.rect(x, self.y, cell.width, height)
            y = self.y + pad_y + ((height - content) / 2 if cell.valign == "M" else 0.0)
            for p in cell.paras:
                y = self._draw(p, x + pad_x, y, cell.width - 2 * pad_x)
            x += cell.width
        self.pdf.set_line_width(0.3)
        self.y += height
        self.size = saved
        self._font(saved)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _orphan(line: _Line) -> bool:
    """A line holding one character, and perhaps the punctuation after it."""
    words = [t for t in line.tokens if not t.isspace() and t[0] not in NO_START]
    return len(words) == 1 and len(words[0]) == 1


def _string_width(pdf: FPDF, token: str, size: float) -> float:
    if pdf.font_size_pt != size:
        pdf.set_font(FONT, size=size)
    return float(pdf.get_string_width(token))


def _signature(left: float, *lines: str, before: float = 6.0, align: Align = "L") -> list[Para]:
    """The seal and date lines, from ``left`` mm: left-aligned as "公章：/日期：" are, or
    centred on each other as a sender's name, "（签章）" and the date are."""
    return [Para(line, align, left=left, before=before if n == 0 else 1.0)
            for n, line in enumerate(lines)]  # fmt: skip


# --- National-Procedure Annex 3: 处理通知书 ----------------------------------------------------


def processing_notice_pdf(n: ProcessingNotice) -> bytes:
    """定点医药机构相关人员医保支付资格处理通知书 (National-Procedure Art. 31, Annex 3)."""
    title = "定点医药机构相关人员医保支付资格处理通知书"
    sheet = Sheet(title, f"处理通知书 {n.document_no}")
    sheet.title(title)
    sheet.text(f"文号：{n.document_no}", align="L")
    sheet.text(f"定点医药机构名称：{n.institution}", align="L", before=1.0)
    sheet.space(2.5)
    p = n.person
    sheet.row([
        Cell.label(14, "姓名"), Cell.value(20, p.name, "C"),
        Cell.label(12, "性别"), Cell.value(10, filled(p.gender, 1), "C"),
        Cell.label(23, "身份证号码"), Cell.value(41, filled(p.id_masked, 8), "C"),
        Cell.label(19, "医保代码"), Cell.value(31, p.national_code, "C"),
    ], min_height=11)  # fmt: skip
    sheet.row([Cell.label(34, "违规行为"), Cell(136, [Para(n.violation, indent=2)])],
              min_height=22)  # fmt: skip
    sheet.row([Cell.label(34, "医疗保障\n经办机构\n处理意见"),
               Cell(136, _processing_opinion(n), valign="T")])  # fmt: skip
    sheet.row([Cell.label(34, "相关人员签字"), Cell(72), Cell.label(20, "日期"),
               Cell.value(44, chinese_date(None), "C")], min_height=14)  # fmt: skip
    sheet.space(2)
    # The annex reads "向医疗保障部门构提出"; Art. 41 names the agency: 向医疗保障经办机构提出.
    sheet.text("如有异议，可在收到处理通知书后10个工作日内，向医疗保障经办机构提出书面申诉。",
               indent=2)  # fmt: skip
    sheet.text("本通知书经办机构留存一份，相关人员及所属机构（含多点执业机构）各执一份。",
               indent=2)  # fmt: skip
    return sheet.output()


def _processing_opinion(n: ProcessingNotice) -> list[Para]:
    suspended, terminated = n.measure == "suspension", n.measure == "termination"
    b = BLANK
    if suspended:
        s_months, s_from, s_to = (
            str(n.months or b * 2),
            chinese_date(n.start),
            chinese_date(n.last_day),
        )
    else:
        s_months, s_from, s_to = b * 2, chinese_date(None), chinese_date(None)
    if terminated:
        t_years, t_from, t_to = (
            str(n.years or b * 2),
            chinese_date(n.start),
            chinese_date(n.last_day),
        )
    else:
        t_years, t_from, t_to = b * 2, chinese_date(None), chinese_date(None)
    keep = "定点医药机构按规定做好相关人员登记备案状态维护。"
    return [
        Para(f"本次记分{n.points}分，本年度累计记分{n.year_points}分。", indent=2),
        Para(f"{box(n.measure == 'talk')}1.予以提醒谈话一次，望尽快改正。", before=1.5),
        Para(
            f"{box(suspended)}2.予以暂停结算资格{s_months}个月，暂停时间自{s_from}起至{s_to}"
            f"止。{keep}如需恢复，可在暂停期满后向本医疗保障经办机构提出申请。",
            before=1.5,
        ),
        Para(
            f"{box(terminated)}3.予以终止结算资格{t_years}年，终止时间自{t_from}起至{t_to}"
            f"止。{keep}如需恢复，可在终止期满后向本医疗保障经办机构提出申请。",
            before=1.5,
        ),
        *_signature(80, "公章：", f"日期：{chinese_date(n.issued_on)}", before=9.0),
    ]


# --- Hunan-Rules Annex 1: 责任认定通知书 -------------------------------------------------------


def responsibility_notice_pdf(n: ResponsibilityNotice) -> bytes:
    """湖南省定点医药机构相关人员责任认定通知书 (Hunan-Rules Art. 6, 19; Annex 1)."""
    sheet = Sheet("湖南省定点医药机构相关人员责任认定通知书", f"责任认定通知书 {n.document_no}")
    sheet.title("湖南省定点医药机构相关人员", "责任认定通知书")
    sheet.text(f"文号：{filled(n.document_no, 10)}", align="L")
    sheet.space(2.5)
    p = n.person
    sheet.row([
        Cell.label(24, "姓名"), Cell.value(30, p.name, "C"),
        Cell.label(16, "性别"), Cell.value(14, filled(p.gender, 1), "C"),
        Cell.label(28, "身份证号码"), Cell.value(58, filled(p.id_masked, 8), "C"),
    ], min_height=12, size=12)  # fmt: skip
    sheet.row([Cell.label(24, "所属单位"), Cell.value(146, p.institution)], min_height=12,
              size=12)  # fmt: skip
    r = n.responsibility
    finding = (
        f"经立案调查，发现你存在{filled(n.violation, 12)}等问题，你所在单位已被"
        f"{filled(n.bureau_place, 5)}医疗保障局依据{filled(n.legal_basis, 8)}给予"
        f"{box(n.penalty is True)}行政处罚{SPACE}{box(n.penalty is False)}免予行政处罚，"
        f"行政决定文书文号{filled(n.decision_no, 6)}。根据你对此违法违规行为所起的作用大小，"
        f"我局对你作出{box(r == 'general')}一般责任{SPACE}{box(r == 'important')}重要责任"
        f"{SPACE}{box(r == 'main')}主要责任的责任认定。"
    )
    sheet.row([
        Cell.label(24, "责 任 认 定"),
        Cell(146, [Para(finding, indent=2),
                   *_signature(84, "公章：", f"日期：{chinese_date(n.issued_on)}", before=10)],
             valign="T"),
    ], size=12)  # fmt: skip
    sheet.row([Cell.label(24, "相关人员\n签字"), Cell(70), Cell.label(24, "日期"),
               Cell.value(52, chinese_date(None), "C")], min_height=16, size=12)  # fmt: skip
    sheet.space(3)
    # RULES I-11: the annex prints 7 working days; Hunan-Rules Art. 19 gives 10.
    sheet.text(f"如有异议，可在收到此通知书后{n.objection_days}个工作日内，向我局提出书面申诉。",
               indent=2)  # fmt: skip
    return sheet.output()


# --- Hunan-Rules Annex 3: 医保支付资格处理情况告知书 -------------------------------------------


def self_pay_notice_pdf(n: SelfPayNotice) -> bytes:
    """湖南省医疗保障定点医药机构相关人员医保支付资格处理情况告知书 (Hunan-Rules Art. 11,
    Annex 3): the institution's written notice to a patient, and the patient's consent."""
    title = "湖南省医疗保障定点医药机构相关人员医保支付资格处理情况告知书"
    sheet = Sheet(title, f"处理情况告知书 {n.practitioner}", size=12.5)
    sheet.title("湖南省医疗保障定点医药机构相关人员", "医保支付资格处理情况告知书")
    sheet.space(4)
    s, t = n.restriction == "suspended", n.restriction == "terminated"
    choice = f"{box(s)}暂停{SPACE}{box(t)}终止结算资格"
    place = filled(n.bureau_place, 5)
    sheet.text(f"{BLANK * 8}：", align="L")
    sheet.text(
        f"我单位{n.practitioner}在开展医疗保障定点医药机构相关人员医保支付资格管理工作中，"
        f"被发现存在{filled(n.violation, 12)}等问题，已被{place}医疗保障局{choice}，"
        "其提供的医药服务，医疗保障基金不予报销。",
        indent=2,
        before=2,
    )
    for p in _signature(95, "（签章）", chinese_date(None), before=12, align="C"):
        sheet.para(p)
    sheet.space(12)
    sheet.text(
        f"我已知晓{n.practitioner}已被{place}医疗保障局{choice}，其提供的医药服务，"
        f"医疗保障基金不予报销。本人自愿要求自费找{n.practitioner}提供{BLANK * 8}医药服务。",
        indent=2,
    )
    sheet.text(f"患者本人或家属签名：{BLANK * 9}", align="L", left=60, before=14)
    return sheet.output()


# --- National-Procedure Annex 7: 记分情况抄告书 ------------------------------------------------


def copy_to_notice_pdf(n: CopyToNotice) -> bytes:
    """定点医药机构相关人员记分情况抄告书 (National-Procedure Art. 40, Annex 7)."""
    title = "定点医药机构相关人员记分情况抄告书"
    sheet = Sheet(title, "记分情况抄告书", size=12.5)
    sheet.title(title)
    sheet.space(4)
    sheet.text(f"{filled(n.recipient, 10)}：", align="L")
    scored = f"记{n.points}分" + (
        f"（本年度累计记分{n.year_points}分）" if n.year_points is not None else ""
    )
    sheet.text(
        "本单位在开展医疗保障定点医药机构相关人员医保支付资格管理工作中，"
        f"发现{n.finding}，{scored}。现将本单位对定点医药机构相关人员的记分情况抄告你单位，"
        "以便你单位加强监管。",
        indent=2,
        before=2,
    )
    sheet.text("附件：抄告材料清单", indent=2, before=6)
    for i, item in enumerate(n.materials, 1):
        sheet.text(f"{i}.{item}", left=18, align="L")
    for p in _signature(95, filled(n.sender, 9), "（签章）", chinese_date(n.issued_on),
                        before=16, align="C"):  # fmt: skip
        sheet.para(p)
    sheet.text(
        "注：本抄告书用于医保行政部门抄告卫生健康主管部门、药品监管部门，医保行政部门对于相关"
        "人员违规情形、当次记分、累计记分的情况；医保行政部门抄告经办机构对于相关人员责任"
        "认定、当次记分的情况。",
        before=18,
        size=10.5,
    )
    return sheet.output()
