from django.urls import path

from .views import documents, pre_assessment, requests

app_name = "procedure"

urlpatterns = [
    path("aanvragen/", requests.request_list, name="request_list"),
    path("aanvragen/lijst.<str:fmt>", requests.request_list_export, name="request_list_export"),
    path("aanvragen/nieuw/", requests.request_create, name="request_create"),
    path("aanvragen/<int:pk>/", requests.request_detail, name="request_detail"),
    # Before the steps' forms: /aanvragen/<pk>/checklist/ would otherwise read as an action.
    path("aanvragen/<int:pk>/checklist/", pre_assessment.assessment_page, name="checklist"),
    path(
        "aanvragen/<int:pk>/checklist/starten/",
        pre_assessment.assessment_start_view,
        name="checklist_start",
    ),
    path(
        "aanvragen/<int:pk>/checklist/afdrukken/",
        pre_assessment.assessment_print,
        name="checklist_print",
    ),
    path(
        "aanvragen/<int:pk>/checklist/afdrukken/<int:revision>/",
        pre_assessment.assessment_print,
        name="checklist_print_revision",
    ),
    path(
        "aanvragen/<int:pk>/checklist/checklist.pdf",
        pre_assessment.assessment_pdf,
        name="checklist_pdf",
    ),
    path("aanvragen/<int:pk>/dossier.pdf", documents.request_dossier_pdf, name="request_dossier"),
    path(
        "aanvragen/<int:pk>/besluitbrief.pdf",
        documents.decision_letter_pdf,
        name="decision_letter",
    ),
    path(
        "aanvragen/<int:pk>/termijn-verlengen/",
        requests.request_extend_deadline,
        name="request_extend_deadline",
    ),
    path("aanvragen/<int:pk>/<slug:action>/", requests.request_action, name="request_action"),
    path("procedure/", requests.procedure_graph, name="procedure_graph"),
    path("status/<uuid:token>/", requests.requester_status, name="requester_status"),
]
