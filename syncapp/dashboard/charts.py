"""Geometry of the server-rendered SVG charts (the template draws what this computes).

A stacked bar per day: sent (solid), blocked (diagonal hatch), failed (cross hatch), so the three
differ by pattern as well as colour. Values are counts or amounts; the axis is drawn in equal steps
of 1, 2 or 5 x 10^n (`nice_scale`).
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


# Tick steps are 1, 2 or 5 times a power of ten, and at most about this many lines are drawn.
TARGET_TICKS = 5


def nice_scale(maximum: float) -> tuple[float, int]:
    """(step, intervals): the axis runs from 0 to step * intervals >= maximum in equal steps of
    1, 2 or 5 x 10^n (never less than 1: counts are whole, and amounts need no cents on an axis),
    so every line has a round label: 0, 2, 4, 6, 8, 10 rather than 0, 2.5, 5, 7.5, 10."""
    if maximum <= 0:
        return 1, 1
    raw = maximum / TARGET_TICKS
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, step)
    step = int(step) if step == int(step) else step
    return step, max(1, math.ceil(maximum / step - 1e-9))


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
    step, intervals = nice_scale(max(totals, default=0))
    top = step * intervals
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
    ticks = [
        Tick(round(TOP + plot_h - plot_h * i / intervals, 1), _short(step * i, measure)) for i in range(intervals + 1)
    ]
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
