"""The dashboards' figures are kept, shown a minute old while the worker draws them again, and
drawn in the request only when none are kept, something they count changed, they are ten
minutes old or the broker cannot be reached."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError

from hap_contracting.core.roles import Role
from hap_contracting.dashboard import figures, selectors, tasks
from hap_contracting.procedure.constants import RequestState
from hap_contracting.procedure.models import AdmissionRequest
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)


class Drawing:
    """``cached_figures`` of one region with a render and a redraw that count their calls."""

    def __init__(self, region):
        self.region = region
        self.rendered = 0
        self.queued = 0

    def render(self) -> str:
        self.rendered += 1
        return f"figures {self.rendered}"

    def redraw(self) -> None:
        self.queued += 1

    def view(self) -> str:
        return selectors.cached_figures(
            self.region, self.render, today=timezone.localdate(), redraw=self.redraw
        )

    def worker_draws(self) -> str:
        return selectors.draw_figures(self.region, self.render, today=timezone.localdate())


def test_figures_a_minute_old_are_shown_while_one_redrawing_is_queued(zwolle):
    drawing = Drawing(zwolle)
    with time_machine.travel(START, tick=False) as clock:
        first = drawing.view()
        clock.shift(selectors.FIGURES_SECONDS + 1)

        shown_old = [drawing.view(), drawing.view()]
        drawing.worker_draws()
        shown_after = drawing.view()

    assert first == "figures 1" and shown_old == ["figures 1", "figures 1"]
    assert drawing.queued == 1
    assert shown_after == "figures 2" and drawing.rendered == 2


def test_figures_less_than_a_minute_old_are_shown_without_a_redrawing(zwolle):
    drawing = Drawing(zwolle)
    with time_machine.travel(START, tick=False) as clock:
        drawing.view()
        clock.shift(selectors.FIGURES_SECONDS - 1)

        shown = drawing.view()

    assert shown == "figures 1" and drawing.queued == 0 and drawing.rendered == 1


def test_a_change_is_drawn_in_the_request_even_when_a_redrawing_could_be_queued(zwolle, location):
    drawing = Drawing(zwolle)
    with time_machine.travel(START, tick=False) as clock:
        drawing.view()
        clock.shift(selectors.FIGURES_SECONDS + 1)
        AdmissionRequestFactory(location=location)

        shown = drawing.view()

    assert shown == "figures 2" and drawing.queued == 0


def test_figures_ten_minutes_old_are_drawn_in_the_request(zwolle):
    drawing = Drawing(zwolle)
    with time_machine.travel(START, tick=False) as clock:
        drawing.view()
        clock.shift(selectors.FIGURES_STALE_SECONDS + 1)

        shown = drawing.view()

    assert shown == "figures 2" and drawing.queued == 0


def test_a_change_made_while_the_worker_draws_is_drawn_again_at_the_next_view(zwolle, location):
    drawing = Drawing(zwolle)

    def render_while_a_request_comes_in() -> str:
        AdmissionRequestFactory(location=location)
        return drawing.render()

    with time_machine.travel(START, tick=False):
        selectors.draw_figures(zwolle, render_while_a_request_comes_in, today=timezone.localdate())
        shown = drawing.view()

    assert shown == "figures 2"


@pytest.fixture
def queued(monkeypatch):
    """The redrawings the pages queue, instead of the worker's queue."""
    calls = []
    monkeypatch.setattr(figures, "enqueue_now", lambda *arguments: calls.append(arguments))
    return calls


class MinuteOldFigures:
    """A secretariat's region dashboard whose figures were drawn a minute ago, before a change
    that no save signal reports (a bulk update): ``drawn`` are the figures kept then."""

    def __init__(self, client, user, region, location):
        self.client = client
        self.url = f"/dashboard/{region.slug}/"
        client.force_login(user)
        self.admission_request = AdmissionRequestFactory(location=location)

    def __enter__(self):
        self.clock = time_machine.travel(START, tick=False)
        traveller = self.clock.__enter__()
        self.drawn = self.view()
        AdmissionRequest.objects.filter(pk=self.admission_request.pk).update(
            state=RequestState.QUALITY_REVIEW
        )
        traveller.shift(selectors.FIGURES_SECONDS + 1)
        return self

    def __exit__(self, *exc_info):
        return self.clock.__exit__(*exc_info)

    def view(self) -> str:
        return self.client.get(self.url).context["figures"]

    def drawn_in_the_request(self) -> str:
        cache.clear()
        return self.view()


def test_the_page_queues_the_redrawing_and_the_task_draws_what_the_user_sees(
    client, staff, zwolle, location, queued
):
    secretariat = staff[Role.SECRETARIAT]
    with MinuteOldFigures(client, secretariat, zwolle, location) as dashboard:
        kept = dashboard.view()
        queued_once = list(queued)
        tasks.redraw_figures(*queued[0][1:])
        redrawn = dashboard.view()
        fresh = dashboard.drawn_in_the_request()

    assert kept == dashboard.drawn
    assert queued_once == [(figures.REDRAW_TASK, zwolle.pk, secretariat.pk, "nl")]
    assert redrawn != dashboard.drawn and redrawn == fresh


def test_the_task_draws_nothing_for_a_user_who_was_deactivated(staff, zwolle, location):
    secretariat = staff[Role.SECRETARIAT]
    secretariat.is_active = False
    secretariat.save()

    tasks.redraw_figures(zwolle.pk, secretariat.pk, "nl")

    drawing = Drawing(zwolle)
    assert drawing.view() == "figures 1"  # nothing was kept


def test_an_unreachable_broker_draws_the_figures_in_the_request(
    client, staff, zwolle, location, monkeypatch
):
    def broker_down(*_arguments):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(figures, "enqueue_now", broker_down)
    with MinuteOldFigures(client, staff[Role.SECRETARIAT], zwolle, location) as dashboard:
        shown = dashboard.view()
        fresh = dashboard.drawn_in_the_request()

    assert shown != dashboard.drawn and shown == fresh
