"""Fixtures of the billing tests."""

import pytest

# The official SI-UBL 2.0 rules, compiled once per session.
from tests.billing.si_ubl import si_ubl_rules  # noqa: F401


@pytest.fixture
def invoice_sender(make_user):
    """The sender's details, so that invoices can be sent (``usefixtures`` in the modules that
    send invoices without testing the documents themselves)."""
    from hap_contracting.billing.services.sender import invoice_sender_save
    from hap_contracting.core.roles import Role
    from tests.billing.test_ubl import SENDER

    return invoice_sender_save(by=make_user(Role.ADMINISTRATOR, is_staff=True), **SENDER)
