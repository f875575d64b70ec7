"""Forms of the procedure's pages: they collect input, the services decide."""

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from hap_contracting.core.forms import Confirmation, DateInput, ServiceForm
from hap_contracting.core.text import TextLimit
from hap_contracting.organisations.models import CareLocation
from hap_contracting.organisations.selectors import regions_visible_to

from .constants import RequestKind, RequestState


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
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=TextLimit.NOTES,
    )

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
        self.fields["received_on"].initial = timezone.localdate()


class ForwardForm(ServiceForm):
    submit_label = _("Forward to location manager")

    location_manager = forms.ModelChoiceField(
        label=_("Location manager"), queryset=User.objects.none()
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=TextLimit.REMARK,
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
        max_length=TextLimit.MOTIVATION,
        help_text=_("Required. For a request sent back: say what is missing."),
    )
    decided_on = forms.DateField(label=_("Date of the advice or decision"), widget=DateInput())

    def __init__(
        self,
        *args,
        outcomes: list[tuple[str, str]],
        ending_procedure: frozenset[str] = frozenset(),
        admission_request=None,
        **kwargs,
    ):
        """``outcomes``: what the state machine lets this user record (``advice_choices``);
        ``ending_procedure``: those of them that end the procedure, confirmed before they are
        recorded (``outcomes_ending_procedure``)."""
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = outcomes
        self.fields["decided_on"].initial = timezone.localdate()
        self.ending_procedure = ending_procedure
        self.admission_request = admission_request

    def confirmation(self) -> Confirmation | None:
        """A negative advice or a rejection ends the procedure: confirmed first. A positive
        advice, or a request sent back, moves it on and needs no confirming."""
        outcome = self.cleaned_data["outcome"]
        if outcome not in self.ending_procedure:
            return None
        label = dict(self.fields["outcome"].choices)[outcome]
        location = self.admission_request.location.name if self.admission_request else ""
        return Confirmation(
            title=gettext("Confirm: %(outcome)s") % {"outcome": label},
            summary=(
                (gettext("Request"), str(self.admission_request or "")),
                (gettext("Outcome"), str(label)),
                (gettext("Motivation"), self.cleaned_data["motivation"]),
                (
                    gettext("Date of the advice or decision"),
                    formats.date_format(self.cleaned_data["decided_on"], "j F Y"),
                ),
            ),
            consequence=gettext(
                "The procedure ends: %(location)s gets no ANW contract on this request. This "
                "cannot be undone; for a new assessment the location submits a new request. "
                "Choose Back to change your choice or your motivation."
            )
            % {"location": location},
        )


class OutcomeForm(ServiceForm):
    submit_label = _("Record outcome")

    notes = forms.CharField(
        label=_("How the outcome was processed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=TextLimit.NOTES,
    )


class ExtendDeadlineForm(ServiceForm):
    submit_label = _("Extend deadline")

    days = forms.IntegerField(label=_("Extend by (days)"), min_value=1, max_value=180)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=TextLimit.REMARK
    )


class WithdrawForm(ServiceForm):
    submit_label = _("Withdraw request")

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=TextLimit.REASON
    )


class RequestFilterForm(forms.Form):
    """Filters of the request list (GET). ``region`` only for users who see all regions."""

    marks_optional_fields = False  # a filter is optional by nature

    state = forms.ChoiceField(label=_("State"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=None, required=False, empty_label=_("All regions")
    )
    received_from = forms.DateField(label=_("Received from"), required=False, widget=DateInput())
    received_until = forms.DateField(label=_("Received until"), required=False, widget=DateInput())
    q = forms.CharField(label=_("Search"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states")), *RequestState.choices]
        self.fields["kind"].choices = [("", _("All kinds")), *RequestKind.choices]
        if user.sees_all_regions:
            self.fields["region"].queryset = regions_visible_to(user).order_by("name")
        else:
            del self.fields["region"]

    def filters(self) -> dict:
        """The selector's filters; none when the form is not valid."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        region = data.get("region")
        return {
            "state": data["state"],
            "kind": data["kind"],
            "region_id": region.pk if region else None,
            "received_from": data["received_from"],
            "received_until": data["received_until"],
            "search": data["q"].strip(),
        }
