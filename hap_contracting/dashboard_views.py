"""The regional dashboard: thin views over ``selectors.dashboard``; a fixed number of queries
per page whatever the amount of data."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from .charts import monthly_bar_chart
from .dashboard_charts import amounts_chart, steps_chart
from .selectors import dashboard as selectors


def _require_role(user) -> None:
    if not selectors.dashboard_allowed(user):
        raise PermissionDenied


@login_required
def dashboard_index(request):
    """A regional user goes to their region's dashboard; finance and administrators choose."""
    user = request.user
    _require_role(user)
    if not user.sees_all_regions:
        if user.region is None:
            raise PermissionDenied
        return redirect("dashboard:region", slug=user.region.slug)
    return render(
        request,
        "dashboard/index.html",
        {
            "summaries": selectors.region_summaries(user, now=timezone.now()),
            "waiting_days": selectors.waiting_days(),
        },
    )


def _dashboard(request, region):
    user = request.user
    now = timezone.now()
    today = timezone.localdate()
    steps = selectors.requests_per_step(user, region, now=now)
    billed = selectors.billed_per_month(user, region, today=today)
    return render(
        request,
        "dashboard/region.html",
        {
            "region": region,
            "steps": steps,
            "steps_chart": steps_chart(steps),
            "open_total": sum(row.open_count for row in steps),
            "waiting_total": sum(row.waiting_count for row in steps),
            "waiting": selectors.waiting_requests(user, region, now=now),
            "waiting_days": selectors.waiting_days(),
            "median_window_days": selectors.MEDIAN_WINDOW_DAYS,
            "chart": monthly_bar_chart(selectors.contracts_ending(user, region, today=today)),
            "overdue": selectors.renewals_overdue(user, region, today=today),
            "billed": billed,
            "billed_chart": amounts_chart(billed),
            "billed_total": sum(amount for _month, amount in billed),
            "today": today,
        },
    )


@login_required
def dashboard_region(request, slug: str):
    _require_role(request.user)
    return _dashboard(request, selectors.dashboard_region_for_user(request.user, slug))


@login_required
def dashboard_all_regions(request):
    _require_role(request.user)
    if not request.user.sees_all_regions:
        raise Http404
    return _dashboard(request, None)
