"""Forms collect input; the services decide. A DomainError lands on the field it names."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .constants import (
    AdviceOutcome,
    AdviceStep,
    BreachActionKind,
    CareProfile,
    ContractKind,
    ContractStatus,
    EscalationStep,
    RequestKind,
)
from .errors import DomainError
from .models import CareLocation, CareOrganisation, Region, TargetGroup, User
from .selectors.contracts import RegisterFilters, act_tariff_rows
from .services.contracts import ContractTerms


class ServiceForm(forms.Form):
    """A crispy form whose ``apply`` calls a service and maps its DomainError onto the form."""

    submit_label = _("Save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))

    def add_domain_error(self, error: DomainError) -> None:
        if error.errors and all(name in self.fields for name in error.errors):
            for name, message in error.errors.items():
                self.add_error(name, message)
            return
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)

    def service_arguments(self) -> dict:
        """The keyword arguments the service takes; by default the cleaned data."""
        return dict(self.cleaned_data)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AdmissionRequestForm(ServiceForm):
    submit_label = _("Register request")

    location = forms.ModelChoiceField(
        label=_("Care location"), queryset=CareLocation.objects.none()
    )
    kind = forms.ChoiceField(label=_("Kind of request"), choices=RequestKind.choices)
    received_on = forms.DateField(label=_("Date received"), widget=DateInput())
    requester_name = forms.CharField(label=_("Requester's name"), max_length=200)
    requester_email = forms.EmailField(label=_("Requester's e-mail"))
    requester_phone = forms.CharField(
        label=_("Requester's telephone"), max_length=20, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
        self.fields["received_on"].initial = timezone.localdate()


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
    house_number = forms.IntegerField(label=_("House number"), min_value=1)
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


class ForwardForm(ServiceForm):
    submit_label = _("Forward to location manager")

    location_manager = forms.ModelChoiceField(
        label=_("Location manager"), queryset=User.objects.none()
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, location_managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location_manager"].queryset = location_managers
        self.fields["location_manager"].label_from_instance = lambda user: (
            user.get_full_name() or user.username
        )


class AdviceForm(ServiceForm):
    """Advice or decision of one step; the outcomes offered depend on the step."""

    submit_label = _("Record")

    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    motivation = forms.CharField(
        label=_("Motivation"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Required. For a request sent back: say what is missing."),
    )
    decided_on = forms.DateField(label=_("Date of the advice or decision"), widget=DateInput())

    def __init__(self, *args, step: str, **kwargs):
        super().__init__(*args, **kwargs)
        outcomes = [AdviceOutcome.POSITIVE, AdviceOutcome.NEGATIVE]
        if step == AdviceStep.QUALITY_TEAM:
            outcomes.append(AdviceOutcome.MORE_INFORMATION)
        labels = {AdviceOutcome.POSITIVE: _("Approve"), AdviceOutcome.NEGATIVE: _("Reject")}
        self.fields["outcome"].choices = [
            (o.value, labels[o] if step == AdviceStep.REGIONAL_COUNCIL and o in labels else o.label)
            for o in outcomes
        ]
        self.fields["decided_on"].initial = timezone.localdate()


class OutcomeForm(ServiceForm):
    submit_label = _("Record outcome")

    notes = forms.CharField(
        label=_("How the outcome was processed"), widget=forms.Textarea(attrs={"rows": 4})
    )


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
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
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
                    "Insurer tariff on %(date)s: € %(tariff)s. Wlz with treatment: at least "
                    "€ %(minimum)s (2 × the tariff)."
                ) % {
                    "date": start_date.strftime("%d-%m-%Y"),
                    "tariff": tariff.amount,
                    "minimum": minimum,
                }
            self.fields[name] = forms.DecimalField(
                label=_("Agreed rate: %(act)s (€)") % {"act": act.name},
                max_digits=9,
                decimal_places=2,
                min_value=0,
                required=False,
                help_text=help_text,
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


class WithdrawForm(ServiceForm):
    submit_label = _("Withdraw request")

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class RequestFilterForm(forms.Form):
    """Filters of the request list (GET)."""

    state = forms.ChoiceField(label=_("State"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    q = forms.CharField(label=_("Search"), required=False)

    def __init__(self, *args, **kwargs):
        from .constants import RequestState

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states")), *RequestState.choices]
        self.fields["kind"].choices = [("", _("All kinds")), *RequestKind.choices]


# --- Contract register ------------------------------------------------------------------------


class ContractFilterForm(forms.Form):
    """Filters of the contract register (GET). ``region`` only for users who see all regions."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    month = forms.RegexField(
        label=_("Ends in month"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        widget=forms.DateInput(attrs={"type": "month", "placeholder": "jjjj-mm"}),
        error_messages={"invalid": _("Give the month as YYYY-MM.")},
    )
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=None, required=False, empty_label=_("All regions")
    )
    q = forms.CharField(label=_("Organisation or location"), required=False)
    lapsed = forms.BooleanField(label=_("Only expired with an open renewal"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *ContractStatus.choices]
        if user.sees_all_regions:
            self.fields["region"].queryset = Region.objects.order_by("name")
        else:
            del self.fields["region"]

    def filters(self):
        if not self.is_valid():
            return RegisterFilters()
        data = self.cleaned_data
        month = None
        if data["month"]:
            year, number = data["month"].split("-")
            month = datetime.date(int(year), int(number), 1)
        region = data.get("region")
        return RegisterFilters(
            status=data["status"],
            month=month,
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
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    escalation_step = forms.ChoiceField(label=_("Escalation step reached"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["escalation_step"].choices = EscalationStep.choices
        self.fields["observed_on"].initial = timezone.localdate()


class BreachEscalateForm(ServiceForm):
    """Seed 001's route only goes forward: the choices are the steps after the current one."""

    submit_label = _("Escalate")

    escalation_step = forms.ChoiceField(label=_("Escalate to"))
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))

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
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}))
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
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["completed_on"].initial = timezone.localdate()


class ContractTerminateForm(ServiceForm):
    submit_label = _("Terminate contract")

    terminated_on = forms.DateField(label=_("Terminated per"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for termination"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terminated_on"].initial = timezone.localdate()
