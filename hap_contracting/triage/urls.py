"""The triage filter list's pages, and the machine-to-machine API (``/api/v1/``: bearer tokens,
no sessions) that the triage system asks."""

from django.urls import path

from . import api, views

app_name = "triage"

urlpatterns = [
    path("triage/", views.triage_list, name="triage_list"),
    path("triage/filterlijst.csv", views.triage_list_csv, name="triage_list_csv"),
    path("api/v1/triage/verdict", api.triage_verdict_view, name="api_verdict"),
    path("api/v1/openapi.json", api.openapi_view, name="openapi"),
]
