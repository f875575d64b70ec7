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

    listed = client.post(
        reverse("admin:audit_accesslogentry_changelist"), {"q": "ZK-1"}, follow=True
    )
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


def search_the_log(client, term):
    return client.post(reverse("admin:audit_accesslogentry_changelist"), {"q": term}, follow=True)


def test_a_search_goes_by_post_and_its_term_stays_out_of_the_address(client, make_user):
    from hap_contracting.audit.constants import AccessAction
    from hap_contracting.audit.services import access_log_record

    finance = make_user(Role.FINANCE)
    wanted = access_log_record(
        user=finance, action=AccessAction.VIEW, what="a", patient_references=["ZK-42"]
    )
    access_log_record(user=finance, action=AccessAction.VIEW, what="b", patient_references=["ZK-7"])
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True))

    found = search_the_log(client, "ZK-42")

    url, status = found.redirect_chain[0]
    assert status == 302 and "ZK-42" not in url
    assert list(found.context["cl"].result_list) == [wanted]
    assert 'value="ZK-42"' in found.content.decode()
    # The token keeps the search without the term; the log's own entry of that search names it.
    again = client.get(url).context["cl"].result_list
    assert wanted in again and all("ZK-7" not in entry.patient_references for entry in again)


def test_a_bsn_typed_in_the_search_is_logged_as_its_keyed_hash_only(client, make_user):
    from hap_contracting.audit.models import AccessLogEntry

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    client.force_login(administrator)

    search_the_log(client, "111 222 333")

    logged = AccessLogEntry.objects.get(user=administrator)
    assert "111" not in logged.what and "hash" in logged.what


def test_the_source_of_every_access_is_logged(client, make_user):
    from hap_contracting.audit.models import AccessLogEntry

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    client.force_login(administrator)

    client.get(
        reverse("admin:audit_accesslogentry_changelist"),
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="Firefox/140",
    )

    logged = AccessLogEntry.objects.get(user=administrator)
    assert (logged.client_address, logged.user_agent) == ("10.1.2.3", "Firefox/140")


def test_refused_and_not_found_reads_are_logged(client, make_user, zwolle):
    from hap_contracting.audit.constants import AccessOutcome
    from hap_contracting.audit.models import AccessLogEntry

    manager = make_user(Role.LOCATION_MANAGER, region=zwolle, is_staff=True)
    finance = make_user(Role.FINANCE)

    client.force_login(manager)
    refused_invoice = client.get(reverse("billing:invoice_detail", args=[1]))
    refused_log = client.get(reverse("admin:audit_accesslogentry_changelist"))
    client.force_login(finance)
    missing_invoice = client.get(reverse("billing:invoice_detail", args=[999]))

    assert (refused_invoice.status_code, refused_log.status_code) == (403, 403)
    assert missing_invoice.status_code == 404
    assert set(AccessLogEntry.objects.values_list("user", "what", "outcome")) == {
        (manager.pk, "invoice 1", AccessOutcome.REFUSED),
        (manager.pk, "toegangslog", AccessOutcome.REFUSED),
        (finance.pk, "invoice 999", AccessOutcome.NOT_FOUND),
    }


def test_an_export_of_many_patients_is_one_row_whose_patients_are_one_click_away(client, make_user):
    from hap_contracting.audit.constants import AccessAction
    from hap_contracting.audit.models import AccessLogReference
    from hap_contracting.audit.services import access_log_record_many

    finance = make_user(Role.FINANCE)
    entry = access_log_record_many(
        user=finance,
        action=AccessAction.EXPORT,
        what="export",
        references=AccessLogReference.objects.none().values_list("patient_reference", flat=True),
    )
    AccessLogReference.objects.bulk_create(
        AccessLogReference(entry=entry, patient_reference=f"ZK-{n:05d}") for n in range(1200)
    )
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True))

    listed = client.get(reverse("admin:audit_accesslogentry_changelist"))
    patients = client.get(reverse("admin:audit_accesslogentry_patients", args=[entry.pk]))

    row = listed.content.decode()
    assert "1200 patiënten" in row and "ZK-00001" not in row
    assert patients.status_code == 200
    assert "ZK-00000" in patients.content.decode() and "ZK-00500" not in patients.content.decode()
    assert patients.context["page"].paginator.num_pages == 3
