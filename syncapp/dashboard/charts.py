"""Geometry of the server-rendered SVG charts (the template draws what this computes).

A stacked bar per day: sent (solid), blocked (diagonal hatch), failed (cross hatch), so the three
differ by pattern as well as colour. Values are counts or amounts; the axis gets "nice" ticks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from syncapp.dashboard.selectors import DayBar

WIDTH = 1000
HEIGHT = 240
LEFT = 48  # room for the y labels
RIGHT = 8
TOP = 10
BOTTOM = 28  # room for the x labels
SERIES = ("sent", "blocked", "failed")


@dataclass
class Rect:
    series: str
    x: float
    y: float
    width: float
    height: float
    value: str


@dataclass
class Column:
    label: str  # "3 Mar"
    x_label: float
    show_label: bool
    rects: list[Rect]
    title: str  # the tooltip: "3 Mar: 4 sent, 1 blocked, 0 failed"


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class BarChart:
    width: int
    height: int
    columns: list[Column]
    ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_bottom: int
    measure: str  # count | amount
    empty: bool


def _nice_max(value: float, measure: str) -> float:
    if measure == "count" and value <= 4:
        return 4  # whole-number ticks for small counts
    if value <= 0:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _short(value: float, measure: str) -> str:
    if measure == "count":
        return f"{value:,.0f}"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:,.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.0f}"


def _value(bar: DayBar, series: str, measure: str) -> float:
    raw = getattr(bar, series if measure == "count" else f"{series}_amount")
    return float(raw or 0)


def stacked_daily(bars: list[DayBar], *, measure: str = "count") -> BarChart:
    measure = "amount" if measure == "amount" else "count"
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    totals = [sum(_value(bar, s, measure) for s in SERIES) for bar in bars]
    top = _nice_max(max(totals, default=0), measure)
    slot = plot_w / max(len(bars), 1)
    bar_w = max(2.0, slot * 0.68)
    label_every = max(1, math.ceil(len(bars) / 7))
    columns = []
    for index, bar in enumerate(bars):
        x = LEFT + index * slot + (slot - bar_w) / 2
        y = TOP + plot_h
        rects = []
        for series in SERIES:
            value = _value(bar, series, measure)
            if value <= 0:
                continue
            h = plot_h * value / top
            y -= h
            rects.append(Rect(series, round(x, 1), round(y, 1), round(bar_w, 1), round(h, 1), _short(value, measure)))
        label = f"{bar.day.day} {bar.day:%b}"
        parts = ", ".join(f"{_fmt(_value(bar, s, measure), measure)} {s}" for s in SERIES)
        columns.append(
            Column(
                label=label,
                x_label=round(LEFT + index * slot + slot / 2, 1),
                show_label=(len(bars) - 1 - index) % label_every == 0,
                rects=rects,
                title=f"{label}: {parts}",
            )
        )
    ticks = [Tick(round(TOP + plot_h - plot_h * i / 4, 1), _short(top * i / 4, measure)) for i in range(5)]
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        columns=columns,
        ticks=ticks,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=TOP + plot_h,
        measure=measure,
        empty=not any(totals),
    )


def _fmt(value: float, measure: str) -> str:
    return f"{value:,.0f}" if measure == "count" else f"{Decimal(str(value)):,.2f}"
