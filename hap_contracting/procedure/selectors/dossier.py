"""The request's dossier for the regional council's meeting, read in a fixed number of queries
whatever the number of advices, revisions, documents and history rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch
from django.template.defaultfilters import date as format_date
from django.utils.translation import gettext as _

from checklist.selectors import (
    AssessmentView,
    assessment_revisions,
    assessment_view,
    latest_submitted_assessment,
)

from ..models import AdmissionRequest, Advice, DecisionLetter, TransitionLog
from .admission import admission_request_history, admission_requests_visible_to


@dataclass
class DossierDocument:
    name: str
    detail: str


@dataclass
class Dossier:
    admission_request: AdmissionRequest
    checklist: AssessmentView | None
    advices: list[Advice]
    documents: list[DossierDocument]
    history: list[TransitionLog]
    letter: DecisionLetter | None

    @property
    def unmet_knock_outs(self) -> list:
        return self.checklist.unmet_knock_outs if self.checklist else []

    @property
    def unmet_others(self) -> list:
        """Applicable items that are not met and not knock-out (informative for the council)."""
        if self.checklist is None:
            return []
        return [
            row
            for row in self.checklist.rows
            if row.applicable and not row.item.is_knock_out and row.verdict.met is False
        ]

    @property
    def changed(self) -> list:
        return [row for row in self.checklist.rows if row.changed] if self.checklist else []

    def context(self) -> dict:
        """What the dossier's template reads."""
        return {
            "admission_request": self.admission_request,
            "checklist": self.checklist,
            "unmet_knock_outs": self.unmet_knock_outs,
            "unmet_others": self.unmet_others,
            "changed": self.changed,
            "advices": self.advices,
            "documents": self.documents,
            "history": self.history,
        }


def _signed_documents(contract, label: str) -> list[DossierDocument]:
    if contract is None:
        return []
    return [
        DossierDocument(
            name=document.original_name,
            detail=_("%(label)s %(contract)s, version %(version)s, uploaded on %(date)s")
            % {
                "label": label,
                "contract": contract.reference,
                "version": document.version,
                "date": format_date(document.uploaded_at, "j F Y"),
            },
        )
        for document in contract.documents.all()
    ]


def request_dossier(user, pk: int) -> Dossier | None:
    """The dossier of one request the user may see (None otherwise: the view answers 404).

    The contracts' signed documents are read through the request's relations (the procedure
    imports nothing of contracts)."""
    admission_request = (
        admission_requests_visible_to(user)
        .select_related("renews_contract", "resulting_contract", "decision_letter")
        .prefetch_related(
            "renews_contract__documents",
            "resulting_contract__documents",
            Prefetch("advices", queryset=Advice.objects.select_related("decided_by")),
        )
        .filter(pk=pk)
        .first()
    )
    if admission_request is None:
        return None
    submitted = latest_submitted_assessment(admission_request)
    documents = [
        DossierDocument(
            name=_("Checklist, revision %(revision)s") % {"revision": revision.revision},
            detail=(
                _("submitted on %(date)s") % {"date": format_date(revision.submitted_at, "j F Y")}
                if revision.is_submitted
                else _("draft")
            ),
        )
        for revision in assessment_revisions(admission_request)
    ]
    documents += _signed_documents(
        getattr(admission_request, "renews_contract", None), _("Signed contract")
    )
    documents += _signed_documents(
        getattr(admission_request, "resulting_contract", None), _("Signed contract")
    )
    letter = getattr(admission_request, "decision_letter", None)
    if letter is not None:
        documents.append(
            DossierDocument(
                name=letter.subject,
                detail=_("decision letter of %(date)s")
                % {"date": format_date(letter.letter_date, "j F Y")},
            )
        )
    return Dossier(
        admission_request=admission_request,
        checklist=assessment_view(submitted) if submitted else None,
        advices=list(admission_request.advices.all()),
        documents=documents,
        history=list(admission_request_history(admission_request)),
        letter=letter,
    )
