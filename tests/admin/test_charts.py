"""The points chart: a pure function from fixed data to the same SVG every time."""

from __future__ import annotations

import re
from datetime import date

from admin.charts import Band, Threshold, bands_of, chart_for, points_chart, thresholds_of
from scoring import Repair, Restore, Score, evaluate, practitioner_ruleset

THRESHOLDS = [
    Threshold(9, "暂停1个月"), Threshold(10, "暂停3个月"), Threshold(11, "暂停5个月"),
    Threshold(12, "终止1年", termination=True),
]  # fmt: skip
STEPS = [(date(2025, 5, 12), 10), (date(2025, 8, 1), 6)]
SUSPENDED = Band("suspension", date(2025, 6, 1), date(2025, 9, 30))


def chart(**changes: object) -> str:
    args: dict[str, object] = {
        "year": 2025, "steps": STEPS, "thresholds": THRESHOLDS, "bands": [SUSPENDED],
        "until": date(2025, 9, 15),
    } | changes  # fmt: skip
    return points_chart(**args)  # type: ignore[arg-type]


def test_it_draws_the_running_total_as_a_step_line() -> None:
    # x: 28 + day of year / 365 × 384; y: 292 − points / 13 × 258 (0–12 and one more).
    line = re.search(r'<polyline class="total" points="([^"]+)"', chart())
    assert line
    assert line.group(1) == (
        "28.0,292.0 165.8,292.0 165.8,93.5 251.0,93.5 251.0,172.9 299.4,172.9"
    )  # 0 from 1 January, 10 on 12 May, 6 after the repair of 1 August, to 15 September


def test_it_draws_the_thresholds_with_their_labels() -> None:
    svg = chart()
    lines = re.findall(r'<line class="threshold" x1="28" y1="([\d.]+)"[^>]*stroke-dasharray', svg)
    assert lines == ["113.4", "93.5", "73.7", "53.8"]  # 9, 10, 11, 12
    for label in ("9分 暂停1个月", "10分 暂停3个月", "11分 暂停5个月", "12分 终止1年"):
        assert label in svg
    assert 'stroke="#a4161a" stroke-width="1.2"' in svg  # the termination line in red


def test_it_shades_the_periods_within_the_year() -> None:
    svg = chart(bands=[SUSPENDED, Band("termination", date(2025, 12, 1), date(2026, 11, 30))])
    assert '<rect class="band band-suspension" x="186.9" y="34" width="128.4"' in svg
    assert '<rect class="band band-termination" x="379.4" y="34" width="32.6"' in svg  # to 31 Dec
    assert "<title>终止 2025-12-01 至 2025-12-31</title>" in svg
    assert 'fill-opacity="0.22"' in svg


def test_it_labels_the_total_and_explains_itself() -> None:
    svg = chart()
    assert '<text class="current"' in svg and "截至 9月15日 累计 6 分" in svg
    assert '<title id="pc-title">2025 年度累计记分走势：截至 2025-09-15 累计 6 分</title>' in svg
    assert "2025-05-12 +10 分至 10 分；2025-08-01 -4 分至 6 分" in svg  # the <desc>
    assert re.findall(r">(\d+)月<", svg) == [str(m) for m in range(1, 13)]
    assert 'role="img"' in svg and 'aria-labelledby="pc-title pc-desc"' in svg


def test_it_is_deterministic_and_needs_no_inline_style() -> None:
    assert chart() == chart()
    assert "style=" not in chart() and "<script" not in chart()


def test_a_year_without_points_is_a_flat_line() -> None:
    svg = chart(steps=[], bands=[], until=None)
    line = re.search(r'points="([^"]+)"', svg)
    assert line and line.group(1) == "28.0,292.0 412.0,292.0"
    assert "2025 年度没有记分" in svg and "band" not in svg


def test_it_escapes_names() -> None:
    assert "<b>" not in chart(name="<b>张伟</b>") and "&lt;b&gt;张伟" in chart(name="<b>张伟</b>")


def test_it_reads_the_engine_s_timeline() -> None:
    rs = practitioner_ruleset("hunan-2025")
    timeline = evaluate(
        rs,
        [
            Score(date(2025, 5, 12), 10, case="a"),  # one case of 10: 4 months from 1 June
            Repair(date(2025, 10, 8), "exam", 95),  # −3
            Restore(date(2025, 10, 10)),
        ],
    )
    assert [t.points for t in thresholds_of(timeline)] == [9, 10, 11, 12]
    assert thresholds_of(timeline)[-1] == Threshold(12, "终止1年", termination=True)
    assert bands_of(timeline, 2025, date(2025, 12, 1)) == [
        Band("suspension", date(2025, 6, 1), date(2025, 9, 30)),
        Band("pending", date(2025, 10, 1), date(2025, 10, 9)),  # ended, not yet restored
    ]
    svg = chart_for(timeline, 2025, date(2025, 12, 1), "张伟")
    line = re.search(r'<polyline class="total" points="([^"]+)"', svg)
    assert line
    levels = [float(p.split(",")[1]) for p in line.group(1).split()]
    assert levels == [292.0, 292.0, 93.5, 93.5, 153.1, 153.1]  # 0 → 10 → 7
    assert "张伟 2025 年度累计记分走势：截至 2025-12-01 累计 7 分" in svg
    assert chart_for(timeline, 2026, date(2026, 3, 1)).count('class="band') == 0
