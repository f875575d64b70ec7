"""Small server-side SVG charts: the geometry is computed here, the template draws it. No
JavaScript and nothing loaded from elsewhere, so the page works offline and prints."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.formats import date_format


@dataclass(frozen=True)
class Bar:
    month: datetime.date
    count: int
    x: float
    y: float
    width: float
    height: float
    label: str  # short month name under the bar
    year_label: str  # the year under the first bar and under January, else ""
    title: str  # full month, for the tooltip and screen readers
    label_x: float
    value_y: float  # where the count above the bar goes


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    baseline: float
    label_y: float  # the month labels under the bars
    maximum: int
    total: int
    gridlines: list[tuple[float, int]]


def monthly_bar_chart(
    counts: list[tuple[datetime.date, int]],
    *,
    width: int = 720,
    height: int = 200,
    top: int = 20,
    bottom: int = 40,
    left: int = 28,
) -> BarChart:
    """Bars of equal width, scaled to the largest month (at least 1, so an empty chart is flat)."""
    maximum = max((count for _month, count in counts), default=0)
    scale_top = max(maximum, 1)
    plot_height = height - top - bottom
    baseline = height - bottom
    slot = (width - left) / max(len(counts), 1)
    bar_width = slot * 0.7
    bars = []
    for index, (month, count) in enumerate(counts):
        bar_height = plot_height * count / scale_top
        x = left + index * slot + (slot - bar_width) / 2
        bars.append(
            Bar(
                month=month,
                count=count,
                x=round(x, 1),
                y=round(baseline - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                label=date_format(month, "M"),
                year_label=str(month.year) if index == 0 or month.month == 1 else "",
                title=date_format(month, "F Y"),
                label_x=round(x + bar_width / 2, 1),
                value_y=round(baseline - bar_height - 4, 1),
            )
        )
    steps = sorted({0, scale_top // 2, scale_top}) if scale_top > 1 else [0, 1]
    gridlines = [(round(baseline - plot_height * step / scale_top, 1), step) for step in steps]
    return BarChart(
        bars=bars,
        width=width,
        height=height,
        baseline=baseline,
        label_y=baseline + 16,
        maximum=maximum,
        total=sum(count for _month, count in counts),
        gridlines=gridlines,
    )
