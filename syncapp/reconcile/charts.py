"""Geometry of the Xero-vs-Procore chart per project (the template draws what this computes).

One row per project and currency: a Xero bar (solid) above a Procore bar (hatched), so the two differ
by pattern as well as colour, and a text at the end of the row that says "≠ 1,234.00" where the two
differ and "= same" where they agree (the difference never rests on colour alone). Bars are scaled
within their currency: amounts in two currencies are never drawn on one scale.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 1000
LABEL = 260  # room for the project's name
NOTE = 170  # room for the difference at the end of the row
ROW = 34
BAR = 12


@dataclass
class PairRow:
    label: str
    y: int
    xero_width: float
    procore_width: float
    xero: str
    procore: str
    differs: bool
    note: str  # "≠ 1,234.00" or "= same"
    title: str


@dataclass
class PairChart:
    width: int
    height: int
    left: int
    bar_y_offset: int
    bar_height: int
    note_x: int
    rows: list[PairRow]
    empty: bool


def paired_bars(rows: list[dict]) -> PairChart:
    """`rows`: totals per project and currency (selectors.totals_by(by="project"))."""
    plot = WIDTH - LABEL - NOTE
    top: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        top[row["currency"]] = max(top[row["currency"]], abs(row["xero"]), abs(row["procore"]))
    pairs = []
    for index, row in enumerate(rows):
        scale = top[row["currency"]] or Decimal(1)
        name = row.get("name") or "Not matched to a project"
        label = f"{name[:34]} · {row['currency'] or '—'}"
        differs = row["difference"] != 0
        note = f"≠ {row['difference']:,.2f}" if differs else "= same"
        pairs.append(
            PairRow(
                label=label,
                y=index * ROW,
                xero_width=round(float(plot * abs(row["xero"]) / scale), 1),
                procore_width=round(float(plot * abs(row["procore"]) / scale), 1),
                xero=f"{row['xero']:,.2f}",
                procore=f"{row['procore']:,.2f}",
                differs=differs,
                note=note,
                title=f"{label}: Xero {row['xero']:,.2f}, Procore {row['procore']:,.2f}, "
                f"{'difference ' + format(row['difference'], ',.2f') if differs else 'the same'}",
            )
        )
    return PairChart(
        width=WIDTH,
        height=max(ROW, ROW * len(pairs)),
        left=LABEL,
        bar_y_offset=4,
        bar_height=BAR,
        note_x=WIDTH - NOTE + 8,
        rows=pairs,
        empty=not pairs,
    )
