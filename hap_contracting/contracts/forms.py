"""Forms of the contract pages; the services decide, a DomainError lands on the field it names."""

import datetime

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.forms import Confirmation, DateInput, MonthField, ServiceForm
from hap_contracting.core.money import euro
from hap_contracting.core.text import TextLimit
from hap_contracting.organisations.selectors import regions_visible_to

from .constants import BreachActionKind, ContractKind, ContractStatus, EscalationStep
from .selectors import RegisterFilters, act_tariff_rows
from .services.contracts import ContractTerms


class CompleteContractingForm(ServiceForm):
    """Completes the procedure and makes the ANW contract, with a rate field per act."""

    submit_label = _("Complete contracting and create the contract")

    completed_on = forms.DateField(label=_("Completed on"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind of contract"), choices=ContractKind.choices)
    start_date = forms.DateField(label=_("Contract start date"), widget=DateInput())
    end_date = forms.DateField(
        label=_("Contract end date"),
        widget=DateInput(),
        required=False,
        help_text=_("Empty: the default term from the start date."),
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=TextLimit.REMARK,
    )

    def __init__(self, *args, admission_request=None, acts=(), **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["completed_on"].initial = today
        previous = admission_request.renews_contract if admission_request else None
        self.fields["start_date"].initial = (
            previous.end_date + datetime.timedelta(days=1) if previous else today
        )
        if admission_request is not None:
            self.fields["kind"].initial = (
                ContractKind.WLZ_WITH_TREATMENT
                if admission_request.location.wlz_treatment_admission
                else ContractKind.WLZ_WITHOUT_TREATMENT
            )
        self.act_codes = []
        start_date = self.fields["start_date"].initial
        # The tariff on the proposed start date beside each rate field; the service checks
        # against the start date actually entered.
        tariffs = act_tariff_rows(start_date, ContractKind.WLZ_WITH_TREATMENT) if acts else {}
        for act in acts:
            name = f"rate_{act.code}"
            self.act_codes.append(act.code)
            help_text = _("Wlz with treatment: at least twice the insurer tariff.")
            if act.code in tariffs:
                tariff, minimum = tariffs[act.code]
                help_text = _(
                    "Insurer tariff on %(date)s: %(tariff)s. Wlz with treatment: at least "
                    "%(minimum)s (2 × the tariff)."
                ) % {
                    "date": start_date.strftime("%d-%m-%Y"),
                    "tariff": euro(tariff.amount),
                    "minimum": euro(minimum),
                }
            self.fields[name] = forms.DecimalField(
                label=_("Agreed rate: %(act)s (€)") % {"act": act.name},
                max_digits=9,
                decimal_places=2,
                min_value=0,
                required=False,
                help_text=help_text,
            )

    def confirmation(self) -> Confirmation:
        """Completing contracting ends the procedure and makes the contract: confirmed first."""
        data = self.cleaned_data

        def day(value):
            return formats.date_format(value, "j F Y")

        summary = [
            (gettext("Completed on"), day(data["completed_on"])),
            (gettext("Kind of contract"), str(dict(ContractKind.choices)[data["kind"]])),
            (gettext("Contract start date"), day(data["start_date"])),
            (
                gettext("Contract end date"),
                day(data["end_date"])
                if data["end_date"]
                else gettext("the default term from the start date"),
            ),
        ]
        for code in self.act_codes:
            amount = data.get(f"rate_{code}")
            if amount is not None:
                summary.append((str(self.fields[f"rate_{code}"].label), euro(amount)))
        if data["note"]:
            summary.append((gettext("Note"), data["note"]))
        return Confirmation(
            title=gettext("Confirm: complete contracting"),
            summary=tuple(summary),
            consequence=gettext(
                "The procedure ends with a contract: the contract is entered in the register "
                "with these dates and rates, and the request can't be reopened. Choose Back to "
                "correct a date or a rate first."
            ),
        )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "completed_on": data["completed_on"],
            "note": data["note"],
            "terms": ContractTerms(
                kind=data["kind"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                rates={code: data.get(f"rate_{code}") for code in self.act_codes},
            ),
        }


# --- Contract register ------------------------------------------------------------------------


class ContractFilterForm(forms.Form):
    """Filters of the contract register (GET). ``region`` only for users who see all regions."""

    marks_optional_fields = False  # a filter is optional by nature

    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    month = MonthField(label=_("Ends in month"), required=False)
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=None, required=False, empty_label=_("All regions")
    )
    q = forms.CharField(label=_("Organisation or location"), required=False)
    lapsed = forms.BooleanField(label=_("Only expired with an open renewal"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *ContractStatus.choices]
        self.fields["kind"].choices = [("", _("All kinds")), *ContractKind.choices]
        if user.sees_all_regions:
            self.fields["region"].queryset = regions_visible_to(user).order_by("name")
        else:
            del self.fields["region"]

    def filters(self, *, sort: str = ""):
        """The selector's filters and the sort (kept when the form is not valid)."""
        if not self.is_valid():
            return RegisterFilters(sort=sort)
        data = self.cleaned_data
        region = data.get("region")
        return RegisterFilters(
            sort=sort,
            status=data["status"],
            kind=data["kind"],
            month=data["month"],
            region_id=region.pk if region else None,
            search=data["q"].strip(),
            lapsed_only=data["lapsed"],
        )


class ContractDocumentForm(ServiceForm):
    submit_label = _("Upload version")

    file = forms.FileField(
        label=_("Signed contract (PDF)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def service_arguments(self) -> dict:
        return {"uploaded_file": self.cleaned_data["file"], "note": self.cleaned_data["note"]}


class BreachForm(ServiceForm):
    submit_label = _("Record breach")

    observed_on = forms.DateField(label=_("Observed on"), widget=DateInput())
    agreement = forms.CharField(
        label=_("What was agreed and not delivered"),
        max_length=200,
        help_text=_("For example: the SO/AVG was not reachable for the duty GP."),
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TextLimit.DESCRIPTION,
    )
    escalation_step = forms.ChoiceField(label=_("Escalation step reached"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["escalation_step"].choices = EscalationStep.choices
        self.fields["observed_on"].initial = timezone.localdate()


class BreachEscalateForm(ServiceForm):
    """Seed 001's route only goes forward: the choices are the steps after the current one."""

    submit_label = _("Escalate")

    escalation_step = forms.ChoiceField(label=_("Escalate to"))
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=TextLimit.REASON
    )

    def __init__(self, *args, current_step: str, **kwargs):
        super().__init__(*args, **kwargs)
        steps = list(EscalationStep)
        later = steps[[step.value for step in steps].index(current_step) + 1 :]
        self.fields["escalation_step"].choices = [(step.value, step.label) for step in later]

    @property
    def has_choices(self) -> bool:
        return bool(self.fields["escalation_step"].choices)


class BreachActionForm(ServiceForm):
    submit_label = _("Record action")

    kind = forms.ChoiceField(label=_("Action"))
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=TextLimit.DESCRIPTION,
    )
    deadline = forms.DateField(
        label=_("Deadline"),
        widget=DateInput(),
        required=False,
        help_text=_("Required for a written warning."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = BreachActionKind.choices


class BreachActionCompleteForm(ServiceForm):
    submit_label = _("Mark as completed")

    completed_on = forms.DateField(label=_("Completed on"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=TextLimit.REMARK, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["completed_on"].initial = timezone.localdate()


class ContractTerminateForm(ServiceForm):
    submit_label = _("Terminate contract")

    terminated_on = forms.DateField(label=_("Terminated per"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for termination"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TextLimit.REASON,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terminated_on"].initial = timezone.localdate()
