"""The location list as a spreadsheet (``core.listing``): address, region and post, and what the
admission looks at. No patient data."""

from django.utils.translation import gettext_lazy as _

from hap_contracting.core.spreadsheets import LABEL, NUMBER, Column

from .constants import CareProfile, WkkgzSituation

YES_NO = {True: _("yes"), False: _("no")}

LOCATION_COLUMNS = (
    Column("name", _("name")),
    Column("organisation__name", _("organisation")),
    Column("organisation__kvk_number", _("KvK number")),
    Column("street", _("street")),
    Column("house_number", _("house number"), NUMBER),
    Column("house_number_addition", _("addition")),
    Column("postcode", _("postcode")),
    Column("city", _("city")),
    Column("region__name", _("region")),
    Column("hap_post__name", _("out-of-hours GP post")),
    Column("wlz_treatment_admission", _("Wlz admission with treatment"), LABEL, YES_NO),
    Column("treatment_delivered", _("treatment actually delivered"), LABEL, YES_NO),
    Column("highest_care_profile", _("highest care profile"), LABEL, dict(CareProfile.choices)),
    Column("wkkgz_situation", _("Wkkgz situation"), LABEL, dict(WkkgzSituation.choices)),
    Column("number_of_residents", _("number of residents"), NUMBER),
)
