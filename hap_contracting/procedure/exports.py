"""The request list as a spreadsheet (``core.listing``): the columns of the page and a few more,
no requester's contact details."""

from django.utils.translation import gettext_lazy as _

from hap_contracting.core.listing import reference_expression
from hap_contracting.core.spreadsheets import DATE, LABEL, Column

from .constants import RequestKind, RequestState

REQUEST_EXPORT_ANNOTATIONS = {"export_reference": reference_expression("A-")}

REQUEST_COLUMNS = (
    Column("export_reference", _("request")),
    Column("location__name", _("care location")),
    Column("location__postcode", _("postcode")),
    Column("location__city", _("city")),
    Column("location__organisation__name", _("organisation")),
    Column("location__region__name", _("region")),
    Column("kind", _("kind"), LABEL, dict(RequestKind.choices)),
    Column("state", _("state"), LABEL, dict(RequestState.choices)),
    Column("received_on", _("received on"), DATE),
)
