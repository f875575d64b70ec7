"""Small server-side SVG bar charts: the geometry is computed here, the templates
``templates/_bar_chart.html`` draws it. No JavaScript and nothing loaded from
elsewhere, so the pages work offline and print. Values may be amounts; a negative value (a month
with more credited than billed) draws no bar but keeps its label."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format

from .money import euro


@dataclass(frozen=True)
class ChartItem:
    key: str  # a stable key for tests and data attributes: a state or "YYYY-MM"
    value: float | int | Decimal
    display: str  # the value as shown above the bar
    label: str  # under the bar
    title: str  # tooltip and screen readers
    sublabel: str = ""  # a second line under the bar (the year), or ""
    month: datetime.date | None = None


@dataclass(frozen=True)
class ChartBar:
    key: str
    value: float
    display: str
    label: str
    sublabel: str
    title: str
    month: datetime.date | None
    x: float
    y: float
    width: float
    height: float
    label_x: float
    value_y: float  # where the value above the bar goes

    @property
    def count(self) -> int:
        return int(self.value)


@dataclass(frozen=True)
class Chart:
    bars: list[ChartBar]
    width: int
    height: int
    left: int  # room for the gridlines' values
    baseline: float
    label_y: float
    sublabel_y: float
    gridlines: list[tuple[float, str]]

    @property
    def gridline_x(self) -> int:
        return self.left - 4

    @property
    def axis_label_x(self) -> int:
        return self.left - 8

    @property
    def total(self) -> float | int:
        total = sum(bar.value for bar in self.bars)
        return int(total) if float(total).is_integer() else total


def bar_chart(
    items: list[ChartItem],
    *,
    width: int = 720,
    height: int = 200,
    top: int = 20,
    bottom: int = 40,
    left: int = 56,
    gridline_format=str,
) -> Chart:
    """Bars of equal width, scaled to the largest value (at least 1: an empty chart is flat)."""
    maximum = max((float(item.value) for item in items), default=0.0)
    scale_top = max(maximum, 1.0)
    plot_height = height - top - bottom
    baseline = height - bottom
    slot = (width - left) / max(len(items), 1)
    bar_width = slot * 0.7
    bars = []
    for index, item in enumerate(items):
        bar_height = plot_height * max(float(item.value), 0.0) / scale_top
        x = left + index * slot + (slot - bar_width) / 2
        bars.append(
            ChartBar(
                key=item.key,
                value=float(item.value),
                display=item.display,
                label=item.label,
                sublabel=item.sublabel,
                title=item.title,
                month=item.month,
                x=round(x, 1),
                y=round(baseline - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                label_x=round(x + bar_width / 2, 1),
                value_y=round(baseline - bar_height - 4, 1),
            )
        )
    steps = [0.0, scale_top / 2, scale_top] if scale_top > 1 else [0.0, 1.0]
    gridlines = [
        (round(baseline - plot_height * step / scale_top, 1), gridline_format(step))
        for step in steps
    ]
    return Chart(
        bars=bars,
        width=width,
        height=height,
        left=left,
        baseline=baseline,
        label_y=baseline + 16,
        sublabel_y=baseline + 30,
        gridlines=gridlines,
    )


def euros(amount: float | Decimal, decimals: int = 0) -> str:
    return euro(amount, decimals)


def _whole(value: float) -> str:
    return str(round(value)) if value == int(value) else ""


def _per_month(values: list[tuple[datetime.date, float | int | Decimal]], display, title):
    return [
        ChartItem(
            key=month.strftime("%Y-%m"),
            value=value,
            display=display(value),
            label=date_format(month, "M"),
            sublabel=str(month.year) if index == 0 or month.month == 1 else "",
            title=f"{date_format(month, 'F Y')}: {title(value)}",
            month=month,
        )
        for index, (month, value) in enumerate(values)
    ]


def monthly_counts_chart(counts: list[tuple[datetime.date, int]]) -> Chart:
    """A count per month (contracts ending per month)."""
    return bar_chart(_per_month(counts, str, str), left=28, gridline_format=_whole)


def amounts_chart(amounts: list[tuple[datetime.date, Decimal]]) -> Chart:
    """Euros per month (billed per month)."""
    return bar_chart(
        _per_month(amounts, euros, lambda amount: euros(amount, 2)), gridline_format=euros
    )


def steps_chart(rows) -> Chart:
    """Open requests per step: rows with ``state``, ``label``, ``short_label``, ``open_count``."""
    return bar_chart(
        [
            ChartItem(
                key=row.state,
                value=row.open_count,
                display=str(row.open_count),
                label=row.short_label,
                title=f"{row.label}: {row.open_count}",
            )
            for row in rows
        ],
        gridline_format=_whole,
    )
