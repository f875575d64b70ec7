"""Pages over the other apps: "Mijn werk" (what waits for the user) and the regional dashboard.
Thin views over the selectors; a fixed number of queries per page whatever the amount of data."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from hap_contracting.procedure.rules import can_register_request
from hap_contracting.procedure.selectors import admission as procedure_selectors

from . import figures, selectors

MY_WORK_PAGE_SIZE = 50


@login_required
def my_work(request):
    today = timezone.localdate()
    page = procedure_selectors.my_work_page(
        request.user, today, request.GET.get("page"), per_page=MY_WORK_PAGE_SIZE
    )
    tasks = selectors.work_tasks(request.user, today=today)
    lapsed = selectors.lapsed_contracts_to_renew(request.user, today=today)
    count = page.paginator.count + sum(task.count for task in tasks)
    return render(
        request,
        "dashboard/my_work.html",
        {
            "page": page,
            "tasks": tasks,
            "can_register": can_register_request.test(request.user),
            "lapsed_contracts": lapsed.shown if lapsed else None,
            "lapsed_more": lapsed is not None and lapsed.more,
            "nothing_waits": not page.paginator.count
            and not tasks
            and not (lapsed and lapsed.shown),
            # The menu's count is this page's: no need to count again.
            "my_work_count": selectors.remember_work_count(request.user, count, today=today),
        },
    )


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
            "summaries": selectors.cached_overview(user, now=timezone.now()),
            "waiting_days": selectors.waiting_days(),
        },
    )


def _dashboard(request, region):
    """The figures are kept and drawn again in the background (``figures.dashboard_figures``);
    the heading around them for each user."""
    return render(
        request,
        "dashboard/region.html",
        {"region": region, "figures": figures.dashboard_figures(request.user, region)},
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
