"""The access log in the Django admin: for administrators, and reading it is logged too."""

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def quality_team(zwolle, make_user):
    return make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True)


def test_reading_and_searching_the_access_log_is_logged_too(client, make_user):
    from hap_contracting.audit.constants import AccessAction
    from hap_contracting.audit.models import AccessLogEntry
    from hap_contracting.audit.services import access_log_record

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    finance = make_user(Role.FINANCE)
    read = access_log_record(
        user=finance,
        action=AccessAction.VIEW,
        what="invoice 2026-00001",
        patient_references=["ZK-1"],
    )
    client.force_login(administrator)

    listed = client.get(reverse("admin:audit_accesslogentry_changelist"), {"q": "ZK-1"})
    opened = client.get(reverse("admin:audit_accesslogentry_change", args=[read.pk]))

    assert listed.status_code == 200 and opened.status_code == 200
    search, view = AccessLogEntry.objects.filter(user=administrator).order_by("pk")
    assert search.action == AccessAction.SEARCH
    assert "ZK-1" in search.what and f"{read.pk}–{read.pk}" in search.what
    assert view.action == AccessAction.VIEW and str(read.pk) in view.what
    # The entries seen are named by number: reading the log does not copy patient references.
    assert search.patient_references == view.patient_references == ""


def test_reading_the_log_again_and_again_does_not_multiply_patient_references(client, make_user):
    from hap_contracting.audit.constants import AccessAction
    from hap_contracting.audit.models import AccessLogEntry
    from hap_contracting.audit.services import access_log_record

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    access_log_record(
        user=make_user(Role.FINANCE),
        action=AccessAction.VIEW,
        what="x",
        patient_references=["ZK-1"],
    )
    client.force_login(administrator)

    for _ in range(3):
        client.get(reverse("admin:audit_accesslogentry_changelist"))

    assert AccessLogEntry.objects.filter(patient_references__contains="ZK-1").count() == 1


def test_the_access_log_is_for_administrators_only(client, quality_team):
    client.force_login(quality_team)

    response = client.get(reverse("admin:audit_accesslogentry_changelist"))

    assert response.status_code == 403
