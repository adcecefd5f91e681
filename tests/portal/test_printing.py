"""The printed forms (portal/services/printing.py): A4, the font embedded, the annexes' words
with the case's data, and Chinese line breaking.

With Debian's poppler-utils installed (``make test`` installs it), each form is also read
back with pdftotext and rendered to test-artifacts/form-*.png to be looked at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from portal.services import printing
from portal.services.printing import (
    BLANK,
    NO_END,
    NO_START,
    CopyToNotice,
    Person,
    ProcessingNotice,
    ResponsibilityNotice,
    SelfPayNotice,
    Sheet,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ZHANG = Person("张伟", "男", "430***********1234", "D43010200001", "长沙市第一医院")
VIOLATION = "将不属于医疗保障基金支付范围的医药费用纳入医疗保障基金结算"


def processing(**changes: object) -> ProcessingNotice:
    fields: dict[str, object] = {
        "document_no": "长医保通〔2025〕7号", "institution": "长沙市第一医院", "person": ZHANG,
        "violation": VIOLATION, "points": 9, "year_points": 9, "measure": "suspension",
        "months": 2, "years": None, "start": date(2025, 10, 1), "last_day": date(2025, 11, 30),
        "issued_on": date(2025, 9, 24),
    }  # fmt: skip
    fields.update(changes)
    return ProcessingNotice(**fields)  # type: ignore[arg-type]


FORMS = {
    "processing": lambda: printing.processing_notice_pdf(processing()),
    "responsibility": lambda: printing.responsibility_notice_pdf(
        ResponsibilityNotice(
            document_no="湘医保责〔2025〕3号",
            person=ZHANG,
            violation="串换药品、医用耗材",
            bureau_place="长沙市",
            legal_basis="《医疗保障基金使用监督管理条例》第三十八条",
            penalty=True,
            decision_no="长医保罚〔2025〕12号",
            responsibility="important",
            issued_on=date(2025, 9, 24),
        )
    ),
    "self-pay": lambda: printing.self_pay_notice_pdf(
        SelfPayNotice("医师张伟", "分解住院", "长沙市", "suspended")
    ),
    "copy-to": lambda: printing.copy_to_notice_pdf(
        CopyToNotice(
            recipient="长沙市卫生健康委员会",
            finding="长沙市第一医院医师张伟（医保相关人员代码：D43010200001）存在分解住院等问题",
            points=9,
            year_points=9,
            materials=(
                "处理通知书（长医保通〔2025〕7号）",
                "协议处理决定书（湘医保协〔2025〕21号）",
            ),
            sender="长沙市医疗保障局",
            issued_on=date(2025, 9, 25),
        )
    ),
}


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return {name: make() for name, make in FORMS.items()}


def text_of(content: bytes) -> str:
    """Read back through the ToUnicode map (pypdf puts spaces and NULs between glyphs
    drawn one by one; they are dropped)."""
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() or "" for p in reader.pages))


def test_each_form_is_one_a4_page_with_the_font_embedded(pdfs: dict[str, bytes]) -> None:
    for name, content in pdfs.items():
        assert content.startswith(b"%PDF-"), name
        assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSerifSC", content), name  # a subset
        assert b"/FontFile" in content  # embedded, not referred to by name
        reader = PdfReader(io.BytesIO(content))
        assert len(reader.pages) == 1, name
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842), name  # A4
        assert reader.metadata is not None and reader.metadata.title, name
        assert len(content) < 150_000, (name, len(content))


def test_the_processing_notice_fills_annex_3(pdfs: dict[str, bytes]) -> None:
    text = text_of(pdfs["processing"])
    assert text.startswith("定点医药机构相关人员医保支付资格处理通知书")
    assert "文号：长医保通〔2025〕7号" in text and "定点医药机构名称：长沙市第一医院" in text
    assert "姓名张伟性别男身份证号码430***********1234医保代码D43010200001" in text
    assert "违规行为" in text and VIOLATION in text
    assert "本次记分9分，本年度累计记分9分。" in text
    assert "□1.予以提醒谈话一次，望尽快改正。" in text
    assert "■2.予以暂停结算资格2个月，暂停时间自2025年10月1日起至2025年11月30日止。" in text
    # The option not taken keeps the annex's blanks (underlines, not text).
    assert "□3.予以终止结算资格年，终止时间自年月日起至年月日止。" in text
    assert "公章：日期：2025年9月24日相关人员签字日期年月日" in text
    assert "收到处理通知书后10个工作日内，向医疗保障经办机构提出书面申诉。" in text
    assert "各执一份。" in text


def test_a_termination_ticks_the_third_choice() -> None:
    text = text_of(printing.processing_notice_pdf(processing(
        measure="termination", months=None, years=1, start=date(2025, 10, 1),
        last_day=date(2026, 9, 30), points=12, year_points=12,
    )))  # fmt: skip
    assert "□2.予以暂停结算资格个月" in text
    assert "■3.予以终止结算资格1年，终止时间自2025年10月1日起至2026年9月30日止。" in text
    talk = text_of(printing.processing_notice_pdf(processing(
        measure="talk", months=None, start=None, last_day=None, points=2, year_points=2,
    )))  # fmt: skip
    assert "■1.予以提醒谈话一次" in talk and "□2." in talk and "□3." in talk


def test_the_responsibility_notice_gives_10_working_days(pdfs: dict[str, bytes]) -> None:
    text = text_of(pdfs["responsibility"])
    assert text.startswith("湖南省定点医药机构相关人员责任认定通知书文号：湘医保责〔2025〕3号")
    assert "所属单位长沙市第一医院" in text and "责任认定" in text
    assert (
        "经立案调查，发现你存在串换药品、医用耗材等问题，你所在单位已被长沙市医疗保障局依据" in text
    )
    assert "■行政处罚□免予行政处罚，行政决定文书文号长医保罚〔2025〕12号。" in text
    assert "我局对你作出□一般责任■重要责任□主要责任的责任认定。" in text
    assert "如有异议，可在收到此通知书后10个工作日内，向我局提出书面申诉。" in text  # RULES I-11
    assert "7个工作日" not in text


def test_the_self_pay_notice_has_both_parts(pdfs: dict[str, bytes]) -> None:
    text = text_of(pdfs["self-pay"])
    assert text.startswith("湖南省医疗保障定点医药机构相关人员医保支付资格处理情况告知书：")
    assert "我单位医师张伟在开展医疗保障定点医药机构相关人员医保支付资格管理工作中，" in text
    assert "被发现存在分解住院等问题，已被长沙市医疗保障局■暂停□终止结算资格" in text
    assert "（签章）年月日" in text
    assert "我已知晓医师张伟已被长沙市医疗保障局■暂停□终止结算资格" in text
    assert "本人自愿要求自费找医师张伟提供医药服务。患者本人或家属签名：" in text


def test_the_copy_to_notice_follows_annex_7(pdfs: dict[str, bytes]) -> None:
    text = text_of(pdfs["copy-to"])
    assert text.startswith("定点医药机构相关人员记分情况抄告书长沙市卫生健康委员会：")
    assert (
        "本单位在开展医疗保障定点医药机构相关人员医保支付资格管理工作中，发现长沙市第一医院" in text
    )
    assert (
        "记9分（本年度累计记分9分）。现将本单位对定点医药机构相关人员的记分情况抄告你单位" in text
    )
    assert "附件：抄告材料清单1.处理通知书（长医保通〔2025〕7号）2.协议处理决定书" in text
    assert "长沙市医疗保障局（签章）2025年9月25日" in text
    assert text.endswith("医保行政部门抄告经办机构对于相关人员责任认定、当次记分的情况。")


def test_dates_are_written_the_chinese_way() -> None:
    assert printing.chinese_date(date(2025, 9, 24)) == "2025年9月24日"
    assert printing.chinese_date(None) == f"{BLANK * 3}年{BLANK * 2}月{BLANK * 2}日"


SAMPLE = (
    "经立案调查，发现你存在将不属于医疗保障基金支付范围的医药费用纳入医疗保障基金结算"
    "（湘医保协〔2025〕21号，依据服务协议第三十八条）等问题。医保代码D43010200001的人员，"
    "“暂停”期间提供的医药服务，医疗保障基金不予报销；急诊、抢救等特殊情形除外！"
    "自2025年10月1日起至2025年11月30日止。"
)


def test_lines_break_by_the_chinese_rules() -> None:
    """W3C clreq 3.1.7: no closing punctuation starts a line, no opening one ends a line;
    Latin words and numbers stay whole; no paragraph ends on one character."""
    sheet = Sheet("测试", "测试")
    for tenth_mm in range(300, 1700, 7):
        width = tenth_mm / 10
        lines = ["".join(line.tokens) for line in sheet.lines(SAMPLE, width, 12.0, indent=2)]
        assert "".join(lines) == SAMPLE, width  # nothing lost, nothing added
        for n, line in enumerate(lines):
            assert line, (width, n)
            assert line[0] not in NO_START, (width, line)
            assert line[-1] not in NO_END, (width, line)
        for word in ("D43010200001", "2025", "21", "30"):
            assert any(word in line for line in lines), (width, word)
        last = [c for c in lines[-1] if c not in NO_START]
        assert len(lines) == 1 or len(last) >= 2, (width, lines[-1])


def test_justified_lines_fill_the_measure() -> None:
    sheet = Sheet("测试", "测试")
    width = 100.0
    lines = sheet.lines(SAMPLE, width, 12.0)
    for line in lines[:-1]:
        natural = sum(sheet._width(t, 12.0) for t in line.tokens)
        assert width - natural < 2 * 12.0 * printing.MM_PER_PT  # at most two ems to spread
    assert lines[-1].last and not any(line.last for line in lines[:-1])


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) absent")
def test_the_forms_render_to_png(pdfs: dict[str, bytes], tmp_path: Path) -> None:
    """test-artifacts/form-*.png, to look at: the Chinese, the tables, nothing overflowing."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, content in pdfs.items():
        source = tmp_path / f"{name}.pdf"
        source.write_bytes(content)
        target = ARTIFACTS / f"form-{name}"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", str(source), str(target)],
            check=True, timeout=60,
        )  # fmt: skip
        png = target.with_suffix(".png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
        if shutil.which("pdftotext"):
            plain = subprocess.run(
                ["pdftotext", "-layout", str(source), "-"], check=True, timeout=60,
                capture_output=True, text=True,
            ).stdout  # fmt: skip
            assert "医疗保障" in plain and "\ufffd" not in plain, name
