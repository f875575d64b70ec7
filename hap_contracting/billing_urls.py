"""Billing uncontracted Wlz-with-treatment care (seed 004, 7.2 point 2)."""

from django.urls import path

from . import billing_views as views

app_name = "billing"

urlpatterns = [
    path("facturatie/import/", views.claim_import_list, name="claim_import_list"),
    path(
        "facturatie/import/sjabloon.csv", views.claim_import_template, name="claim_import_template"
    ),
    path("facturatie/import/<int:pk>/", views.claim_import_detail, name="claim_import_detail"),
    path(
        "facturatie/import/<int:pk>/status.json",
        views.claim_import_status,
        name="claim_import_status",
    ),
    path("facturatie/facturen/", views.invoice_list, name="invoice_list"),
    path("facturatie/facturen/lijst.csv", views.invoice_list_csv, name="invoice_list_csv"),
    path("facturatie/facturen/lijst.xlsx", views.invoice_list_xlsx, name="invoice_list_xlsx"),
    path("facturatie/facturen/export.csv", views.invoice_export_csv, name="invoice_export_csv"),
    path("facturatie/facturen/export.xlsx", views.invoice_export_xlsx, name="invoice_export_xlsx"),
    path("facturatie/facturen/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("facturatie/facturen/<int:pk>/factuur.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("onderzoek/", views.investigation_list, name="investigation_list"),
    path("onderzoek/<int:pk>/", views.investigation_detail, name="investigation_detail"),
    path("triage/", views.triage_list, name="triage_list"),
    path("triage/filterlijst.csv", views.triage_list_csv, name="triage_list_csv"),
]
