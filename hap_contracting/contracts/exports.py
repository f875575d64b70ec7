"""The contract register as a spreadsheet (``core.listing``): the register's columns, the derived
status as on the day of the export."""

from django.utils.translation import gettext_lazy as _

from hap_contracting.core.listing import reference_expression
from hap_contracting.core.spreadsheets import DATE, LABEL, Column
from hap_contracting.procedure.constants import RequestState

from .constants import ContractKind, ContractStatus

YES_NO = {True: _("yes"), False: _("no")}

CONTRACT_EXPORT_ANNOTATIONS = {"export_reference": reference_expression("C-")}

# Lookups on the register's rows (``selectors.contract_register``: ``status`` and
# ``lapsed_unrenewed`` are annotated there).
CONTRACT_COLUMNS = (
    Column("export_reference", _("contract")),
    Column("organisation__name", _("organisation")),
    Column("organisation__kvk_number", _("KvK number")),
    Column("location__name", _("care location")),
    Column("location__city", _("city")),
    Column("region__name", _("region")),
    Column("kind", _("kind"), LABEL, dict(ContractKind.choices)),
    Column("start_date", _("start date"), DATE),
    Column("end_date", _("end date"), DATE),
    Column("terminated_on", _("terminated per"), DATE),
    Column("status", _("status"), LABEL, dict(ContractStatus.choices)),
    Column("renewal_request__state", _("renewal"), LABEL, dict(RequestState.choices)),
    Column("lapsed_unrenewed", _("expired without a renewal"), LABEL, YES_NO),
)
