"""The machine-to-machine API (``/api/v1/``): bearer tokens, no sessions."""

from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("triage/verdict", api.triage_verdict_view, name="triage_verdict"),
    path("openapi.json", api.openapi_view, name="openapi"),
]
