from django import forms
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.forms import ServiceForm

from .constants import Answer, CareProfile, HousingAndCare, WkkgzSituation
from .models import CareOrganisation, TargetGroup
from .selectors import (
    LocationFilters,
    OrganisationFilters,
    posts_visible_to,
    regions_visible_to,
)


class CareLocationForm(ServiceForm):
    submit_label = _("Register location")

    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=CareOrganisation.objects.all(),
        required=False,
        help_text=_("Leave empty when it is not yet known which organisation runs the location."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    street = forms.CharField(label=_("Street"), max_length=200)
    house_number = forms.IntegerField(label=_("House number"), min_value=1, max_value=99999)
    house_number_addition = forms.CharField(label=_("Addition"), max_length=6, required=False)
    postcode = forms.CharField(
        label=_("Postcode"), max_length=7, help_text=_("For example 8011 AB.")
    )
    city = forms.CharField(label=_("City"), max_length=100)
    wlz_treatment_admission = forms.BooleanField(
        label=_("Wlz admission with treatment"), required=False
    )
    treatment_delivered = forms.BooleanField(
        label=_("Treatment actually delivered by the institution"), required=False
    )
    target_groups = forms.ModelMultipleChoiceField(
        label=_("Target groups"),
        queryset=TargetGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    highest_care_profile = forms.TypedChoiceField(
        label=_("Highest care profile"),
        choices=[("", "—"), *CareProfile.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    financed_vpt = forms.BooleanField(label=_("VPT (full package at home)"), required=False)
    financed_mpt = forms.BooleanField(label=_("MPT (modular package at home)"), required=False)
    financed_pgb = forms.BooleanField(label=_("PGB (personal budget)"), required=False)
    number_of_residents = forms.IntegerField(label=_("Number of residents"), min_value=0, initial=0)
    housing_and_care = forms.TypedChoiceField(
        label=_("Housing and care"),
        choices=HousingAndCare.choices,
        initial=HousingAndCare.UNKNOWN,
        # Not posted (an older form, a script): not yet known, as a new location starts.
        required=False,
        empty_value=HousingAndCare.UNKNOWN,
        help_text=_(
            "Together, with care dominating the rental and care agreement, or fully separate?"
        ),
    )
    pgb_without_zorgkantoor_contract = forms.TypedChoiceField(
        label=_("PGB budgets only, no contract with the zorgkantoor"),
        choices=Answer.choices,
        initial=Answer.UNKNOWN,
        required=False,
        empty_value=Answer.UNKNOWN,
        help_text=_(
            "Residents buy their care with a personal budget; the provider has no contract with "
            "the zorgkantoor."
        ),
    )


class LocationFilterForm(forms.Form):
    """Filters of the location list (GET). ``region`` only for users who see all regions."""

    TREATMENT_CHOICES = [("", _("All")), ("yes", _("With treatment")), ("no", _("Without"))]

    marks_optional_fields = False  # a filter is optional by nature

    region = forms.ModelChoiceField(
        label=_("Region"), queryset=None, required=False, empty_label=_("All regions")
    )
    post = forms.ModelChoiceField(
        label=_("Out-of-hours GP post"), queryset=None, required=False, empty_label=_("All posts")
    )
    treatment = forms.ChoiceField(
        label=_("Wlz admission with treatment"), choices=TREATMENT_CHOICES, required=False
    )
    situation = forms.ChoiceField(
        label=_("Wkkgz situation"),
        choices=[("", _("All")), *WkkgzSituation.choices],
        required=False,
    )
    q = forms.CharField(
        label=_("Name, city, postcode or organisation"), max_length=100, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = posts_visible_to(user).order_by("name")
        if user.sees_all_regions:
            self.fields["region"].queryset = regions_visible_to(user).order_by("name")
        else:
            del self.fields["region"]

    def filters(self, *, sort: str = "") -> LocationFilters:
        """The selector's filters and the sort (kept when the form is not valid)."""
        if not self.is_valid():
            return LocationFilters(sort=sort)
        data = self.cleaned_data
        region, post = data.get("region"), data["post"]
        return LocationFilters(
            region_id=region.pk if region else None,
            post_id=post.pk if post else None,
            treatment={"yes": True, "no": False}.get(data["treatment"]),
            situation=data["situation"],
            search=data["q"].strip(),
            sort=sort,
        )


class InvoiceDetailsForm(ServiceForm):
    """Where an organisation's invoices go; ``care_organisation_save`` checks the address is
    whole and writes the postcode as 1234 AB."""

    submit_label = _("Save invoice details")

    invoice_address = forms.CharField(
        label=_("Invoice address"),
        max_length=200,
        required=False,
        help_text=_("Street and house number, or PO box (Postbus 123)."),
    )
    invoice_postcode = forms.CharField(
        label=_("Postcode"), max_length=7, required=False, help_text=_("For example 8011 AB.")
    )
    invoice_city = forms.CharField(label=_("City"), max_length=100, required=False)
    invoice_attention = forms.CharField(
        label=_("Attention of"),
        max_length=200,
        required=False,
        help_text=_("A person or department the invoice is addressed to."),
    )
    invoice_reference = forms.CharField(
        label=_("Their reference or order number"),
        max_length=50,
        required=False,
        help_text=_("The organisation's own reference for our invoices; it is on every invoice."),
    )
    invoice_email = forms.EmailField(
        label=_("Invoice e-mail"),
        required=False,
        help_text=_("The invoices are sent here, with the PDF and the e-invoice attached."),
    )

    FIELDS = (
        "invoice_address",
        "invoice_postcode",
        "invoice_city",
        "invoice_attention",
        "invoice_reference",
        "invoice_email",
    )

    @classmethod
    def initial_of(cls, organisation: CareOrganisation) -> dict:
        return {name: getattr(organisation, name) for name in cls.FIELDS}


class OrganisationFilterForm(forms.Form):
    """Filters of the organisation list (GET)."""

    marks_optional_fields = False  # a filter is optional by nature

    q = forms.CharField(label=_("Name, KvK number or city"), max_length=100, required=False)
    incomplete = forms.BooleanField(label=_("Only with incomplete invoice details"), required=False)

    def filters(self, *, sort: str = "") -> OrganisationFilters:
        if not self.is_valid():
            return OrganisationFilters(sort=sort)
        return OrganisationFilters(
            search=self.cleaned_data["q"].strip(),
            incomplete_only=self.cleaned_data["incomplete"],
            sort=sort,
        )
