"""Bar charts of the dashboard, drawn on the server as SVG like ``charts.monthly_bar_chart``
(which the dashboard reuses for contract expiry): the geometry is computed here, the template
``dashboard/_bar_chart.html`` draws it. Values may be amounts; a negative value (a month with
more credited than billed) draws no bar but keeps its label."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format, number_format


@dataclass(frozen=True)
class ChartBar:
    key: str  # a stable key for tests and data attributes: the state or "YYYY-MM"
    value: float
    display: str  # the value as shown above the bar and in the table
    label: str  # under the bar
    sublabel: str  # a second line under the bar (the year), or ""
    title: str  # tooltip and screen readers
    x: float
    y: float
    width: float
    height: float
    label_x: float
    value_y: float


@dataclass(frozen=True)
class Chart:
    bars: list[ChartBar]
    width: int
    height: int
    baseline: float
    label_y: float
    sublabel_y: float
    gridlines: list[tuple[float, str]]


@dataclass(frozen=True)
class ChartItem:
    key: str
    value: float | int | Decimal
    display: str
    label: str
    title: str
    sublabel: str = ""


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
        baseline=baseline,
        label_y=baseline + 16,
        sublabel_y=baseline + 30,
        gridlines=gridlines,
    )


def euros(amount: float | Decimal, decimals: int = 0) -> str:
    return "€ " + number_format(amount, decimals, use_l10n=True, force_grouping=True)


def steps_chart(rows) -> Chart:
    """Open requests per step (rows of ``selectors.dashboard.requests_per_step``)."""
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
        gridline_format=lambda value: str(round(value)) if value == int(value) else "",
    )


def amounts_chart(amounts: list[tuple[datetime.date, Decimal]]) -> Chart:
    """Euros billed per month."""
    return bar_chart(
        [
            ChartItem(
                key=month.strftime("%Y-%m"),
                value=amount,
                display=euros(amount),
                label=date_format(month, "M"),
                sublabel=str(month.year) if index == 0 or month.month == 1 else "",
                title=f"{date_format(month, 'F Y')}: {euros(amount, 2)}",
            )
            for index, (month, amount) in enumerate(amounts)
        ],
        gridline_format=euros,
    )
