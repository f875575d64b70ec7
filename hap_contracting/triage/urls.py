"""The triage filter list's pages, and the machine-to-machine API (``/api/v1/``: bearer tokens,
no sessions) that the triage system asks."""

from django.urls import include, path

from . import api, views

app_name = "triage"

# The API's own URL patterns (the verdict, the feed, the description), named in this app's
# namespace: ``triage:api_verdict``, ``triage:api_addresses``, ``triage:openapi-json``.
api_patterns, _api_app, _api_namespace = api.api.urls

urlpatterns = [
    path("api/v1/", include(api_patterns)),
    path("triage/", views.triage_list, name="triage_list"),
    path("triage/filterlijst.csv", views.triage_list_csv, name="triage_list_csv"),
]
