"""A practitioner's year in one picture: server-rendered SVG, pure functions.

The step line is the year's running total after repairs, as the engine's timeline gives it
(RULES §4: the total resets on 1 January; approved repairs bring it down); the dashed lines
are the ruleset's cumulative thresholds (Hunan-Rules Art. 9, Anhui-Rules Art. 19,
Hainan-Rules Art. 24); the shaded bands are the suspension and termination periods within
the year, lighter where a period has ended but restoration is still pending (RULES I-8).

No script and no ``style=`` (the CSP forbids inline style): presentation attributes only,
so the chart prints and reads without JavaScript. The same data give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

from scoring.engine import Timeline

# Narrow enough that the labels stay readable on a phone (the SVG is scaled to the width).
WIDTH, HEIGHT = 420, 320
LEFT, RIGHT, TOP, BOTTOM = 28, 8, 34, 28
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BLUE, RED, AMBER, GREY = "#0b4f8a", "#a4161a", "#8a5a00", "#6b6b6b"
BAND_ZH = {"suspension": "暂停", "termination": "终止", "cancellation": "取消", "pending": "待恢复"}
BAND_FILL = {"suspension": AMBER, "termination": RED, "cancellation": RED, "pending": AMBER}
BAND_OPACITY = {
    "suspension": "0.22",
    "termination": "0.2",
    "cancellation": "0.2",
    "pending": "0.09",
}
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Threshold:
    """A cumulative row: ``points`` reached in the year gives ``label`` (e.g. 暂停1个月)."""

    points: int
    label: str
    termination: bool = False


@dataclass(frozen=True)
class Band:
    """A stretch of days within the year, both ends counted."""

    kind: str  # suspension | termination | cancellation | pending (ended, not yet restored)
    first: date
    last: date


def points_chart(
    year: int,
    steps: Sequence[tuple[date, int]],
    thresholds: Sequence[Threshold],
    bands: Sequence[Band] = (),
    until: date | None = None,
    name: str = "",
) -> str:
    """The SVG for one year.

    ``steps``: (day, year total after that day) for each day that changed it, in date
    order; days outside ``year`` are ignored. ``until``: the last day the line is drawn to
    (today in the current year; None for the whole year).
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    days = (end - start).days + 1
    steps = [(d, t) for d, t in steps if d.year == year and (until is None or d <= until)]
    line_end = end if until is None else min(until, end)
    top = max([12, *(t for _, t in steps), *(t.points for t in thresholds)]) + 1

    def x(day: date) -> float:
        return LEFT + (day - start).days / days * PLOT_W

    def y(points: float) -> float:
        return TOP + PLOT_H - max(points, 0) / top * PLOT_H

    current = steps[-1][1] if steps else 0
    who = f"{name} " if name else ""
    title = f"{who}{year} 年度累计记分走势：截至 {line_end.isoformat()} 累计 {current} 分"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="pc-title pc-desc" '
        f'font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" '
        f'font-size="14" class="points-chart">',
        f'<title id="pc-title">{escape(title)}</title>',
        f'<desc id="pc-desc">{escape(_describe(year, steps, thresholds, bands))}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="#ffffff" '
        f'stroke="#bbbbbb"/>',
    ]
    for band in bands:
        first, last = max(band.first, start), min(band.last, end)
        if first > last:
            continue
        x0, x1 = x(first), x(last + ONE_DAY)
        out.append(
            f'<rect class="band band-{band.kind}" x="{x0:.1f}" y="{TOP}" '
            f'width="{x1 - x0:.1f}" height="{PLOT_H}" fill="{BAND_FILL[band.kind]}" '
            f'fill-opacity="{BAND_OPACITY[band.kind]}"><title>'
            f"{BAND_ZH[band.kind]} {first.isoformat()} 至 {last.isoformat()}</title></rect>"
        )
        if x1 - x0 >= 30:
            out.append(
                f'<text x="{x0 + 3:.1f}" y="{TOP + PLOT_H - 6}" font-size="13" '
                f'fill="{BAND_FILL[band.kind]}">{BAND_ZH[band.kind]}</text>'
            )
    for month in range(1, 13):
        mx = x(date(year, month, 1))
        if month > 1:
            out.append(
                f'<line x1="{mx:.1f}" y1="{TOP}" x2="{mx:.1f}" y2="{TOP + PLOT_H}" '
                f'stroke="#e4e4e4"/>'
            )
        mid = (mx + x(date(year + (month == 12), month % 12 + 1, 1))) / 2
        out.append(
            f'<text x="{mid:.1f}" y="{TOP + PLOT_H + 19}" text-anchor="middle" font-size="13" '
            f'fill="#333333">{month}月</text>'
        )
    for tick in range(0, top + 1, 3):
        out.append(
            f'<text x="{LEFT - 5}" y="{y(tick) + 5:.1f}" text-anchor="end" '
            f'fill="#333333">{tick}</text>'
        )
    labels = []  # drawn last, over the line
    for t in thresholds:
        colour = RED if t.termination else AMBER
        ty = y(t.points)
        out.append(
            f'<line class="threshold" x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + PLOT_W}" '
            f'y2="{ty:.1f}" stroke="{colour}" stroke-width="1.2" stroke-dasharray="5 4"/>'
        )
        labels.append(  # inside the plot, above its line, on a white halo
            f'<text x="{LEFT + PLOT_W - 4}" y="{ty - 3:.1f}" text-anchor="end" font-size="13" '
            f'fill="{colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{t.points}分 {escape(t.label)}</text>"
        )
    if until is None or until >= start:
        points = [(x(start), y(0))]
        level = 0
        for day, total in steps:
            points.append((x(day), y(level)))
            points.append((x(day), y(total)))
            level = total
        points.append((x(line_end + ONE_DAY), y(level)))
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(
            f'<polyline class="total" points="{path}" fill="none" stroke="{BLUE}" '
            f'stroke-width="2.5" stroke-linejoin="round"/>'
        )
        before = 0
        for day, total in steps:
            change = total - before
            sign = "+" if change > 0 else ""
            out.append(
                f'<circle cx="{x(day):.1f}" cy="{y(total):.1f}" r="3.5" fill="{BLUE}">'
                f"<title>{day.isoformat()}：{sign}{change} 分，累计 {total} 分</title></circle>"
            )
            before = total
        if until is not None and start <= until <= end:
            tx = x(until + ONE_DAY)
            out.append(
                f'<line class="today" x1="{tx:.1f}" y1="{TOP}" x2="{tx:.1f}" '
                f'y2="{TOP + PLOT_H}" stroke="{GREY}" stroke-dasharray="2 3"/>'
            )
    out += labels
    out.append(
        f'<text class="current" x="{LEFT}" y="{TOP - 11}" font-size="16" font-weight="700" '
        f'fill="{BLUE}">截至 {line_end.month}月{line_end.day}日 累计 {current} 分</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def _describe(
    year: int,
    steps: Sequence[tuple[date, int]],
    thresholds: Sequence[Threshold],
    bands: Sequence[Band],
) -> str:
    """The chart in words, for screen readers and for anyone who cannot see it."""
    parts = []
    if steps:
        before, changes = 0, []
        for day, total in steps:
            change = total - before
            changes.append(f"{day.isoformat()} {'+' if change > 0 else ''}{change} 分至 {total} 分")
            before = total
        parts.append("记分变化：" + "；".join(changes))
    else:
        parts.append(f"{year} 年度没有记分")
    if thresholds:
        parts.append("阈值：" + "；".join(f"{t.points} 分{t.label}" for t in thresholds))
    shown = [b for b in bands if b.first.year <= year <= b.last.year]
    if shown:
        parts.append(
            "期间："
            + "；".join(
                f"{BAND_ZH[b.kind]} {b.first.isoformat()} 至 {b.last.isoformat()}" for b in shown
            )
        )
    return "。".join(parts) + "。"


def thresholds_of(timeline: Timeline) -> list[Threshold]:
    """The ruleset's cumulative rows, one per points value (RULES §5.1)."""
    rows: dict[int, Threshold] = {}
    for row in timeline.ruleset.cumulative:
        unit = f"暂停{row.length}个月" if row.kind == "suspension" else f"终止{row.length}年"
        rows[row.points] = Threshold(row.points, unit, row.kind == "termination")
    return [rows[p] for p in sorted(rows)]


def bands_of(timeline: Timeline, year: int, today: date) -> list[Band]:
    """The periods that touch ``year``: restricted days, then ended-but-not-restored days
    (RULES I-8: the status stays until a restoration is approved)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    bands = []
    for period in timeline.periods:
        last = period.last_day() or end
        if period.restored_on is not None:
            last = min(last, period.restored_on - ONE_DAY)
        if period.kind == "cancellation":
            last = max(last, end)
        bands.append(Band(period.kind, period.start, last))
        if period.kind != "cancellation" and period.last_day() is not None:
            pending_to = (
                period.restored_on - ONE_DAY if period.restored_on is not None else max(today, last)
            )
            if pending_to > last:
                bands.append(Band("pending", last + ONE_DAY, pending_to))
    return [b for b in bands if b.first <= end and b.last >= start and b.first <= b.last]


def chart_for(timeline: Timeline, year: int, today: date, name: str = "") -> str:
    """The chart of ``year`` from the engine's timeline, drawn up to ``today``."""
    until = None if year < today.year else today
    if year > today.year:
        until = date(year, 1, 1) - ONE_DAY
    return points_chart(
        year,
        [(d, t) for d, t in timeline.totals if d.year == year],
        thresholds_of(timeline),
        bands_of(timeline, year, today),
        until,
        name,
    )
