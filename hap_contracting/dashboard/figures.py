"""The figures of a region's dashboard (or of all regions): read, drawn into HTML and kept
(``selectors.cached_figures``). The page shows what is kept; a Celery task
(``tasks.redraw_figures``) draws them again when they are a minute old, so that a user waits for
the drawing only after a change of what they count."""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from django.utils import timezone, translation
from kombu.exceptions import OperationalError

from hap_contracting.core.charts import amounts_chart, monthly_counts_chart, steps_chart
from hap_contracting.core.jobs import enqueue_now
from hap_contracting.organisations.models import Region

from . import selectors

logger = logging.getLogger(__name__)
REDRAW_TASK = "dashboard.redraw_figures"  # tasks.redraw_figures


def dashboard_figures(user, region: Region | None) -> str:
    """The kept figures of ``region`` for ``user``'s page, drawn here only when none are kept or
    something they count has changed; a minute old, they are drawn again by the worker."""

    def redraw() -> str | None:
        try:
            enqueue_now(
                REDRAW_TASK, region.pk if region else None, user.pk, translation.get_language()
            )
        except OperationalError:  # the broker is unreachable: drawn in the request instead
            logger.warning("Could not queue the redrawing of a dashboard's figures", exc_info=True)
            return draw(user, region)
        return None

    return selectors.cached_figures(
        region, lambda: _render(user, region), today=timezone.localdate(), redraw=redraw
    )


def draw(user, region: Region | None) -> str:
    """Read and draw ``region``'s figures as ``user`` sees them, and keep them."""
    return selectors.draw_figures(region, lambda: _render(user, region), today=timezone.localdate())


def _render(user, region: Region | None) -> str:
    return render_to_string("dashboard/_figures.html", figures_context(user, region))


def figures_context(user, region: Region | None) -> dict:
    now = timezone.now()
    today = timezone.localdate()
    norms = selectors.norms_in_force()
    over_norm_per_step = selectors.over_norm_counts(
        user, today=today, region=region, per="state", norms=norms
    )
    # The longest over first, as many as the waiting list shows; the heading counts them all.
    over_norm = selectors.requests_over_norm(
        user, region, today=today, norms=norms, limit=selectors.WAITING_LIST_LENGTH
    )
    steps = selectors.requests_per_step(
        user, region, now=now, norms=norms, over_norm_per_step=over_norm_per_step
    )
    billed = selectors.billed_per_month(user, region, today=today)
    payments = selectors.payment_figures(user, today=today)
    return {
        "region": region,
        "steps": steps,
        "steps_chart": steps_chart(steps),
        "open_total": sum(row.open_count for row in steps),
        "waiting_total": sum(row.waiting_count for row in steps),
        "waiting": selectors.waiting_requests(user, region, now=now),
        "waiting_days": selectors.waiting_days(),
        "median_window_days": selectors.MEDIAN_WINDOW_DAYS,
        "chart": monthly_counts_chart(selectors.contracts_ending(user, region, today=today)),
        "overdue": selectors.renewals_overdue(user, region, today=today, norms=norms),
        "over_norm": over_norm,
        "over_norm_total": sum(over_norm_per_step.values()),
        "billed": billed,
        "billed_chart": amounts_chart(billed),
        "billed_total": sum(amount for _month, amount in billed),
        "payments": payments.get(region.pk if region else None) or selectors.PaymentFigures(),
        "paid_window_days": selectors.PAID_WINDOW_DAYS,
        "today": today,
    }
