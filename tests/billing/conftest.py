"""Fixtures of the billing tests."""

# The official SI-UBL 2.0 rules, compiled once per session.
from tests.billing.si_ubl import si_ubl_rules  # noqa: F401
