"""Billing uncontracted Wlz-with-treatment care (seed 004, 7.2 point 2)."""

from django.urls import path

from .views import claims, investigations, invoices, payments

app_name = "billing"

urlpatterns = [
    path("facturatie/import/", claims.claim_import_list, name="claim_import_list"),
    path(
        "facturatie/import/sjabloon.csv", claims.claim_import_template, name="claim_import_template"
    ),
    path("facturatie/import/<int:pk>/", claims.claim_import_detail, name="claim_import_detail"),
    path(
        "facturatie/import/<int:pk>/fouten.csv",
        claims.claim_import_errors_csv,
        name="claim_import_errors_csv",
    ),
    path(
        "facturatie/import/<int:pk>/status.json",
        claims.claim_import_status,
        name="claim_import_status",
    ),
    path("facturatie/facturen/", invoices.invoice_list, name="invoice_list"),
    path(
        "facturatie/facturen/lijst.<str:fmt>",
        invoices.invoice_list_export,
        name="invoice_list_export",
    ),
    # The same downloads under their earlier names.
    path(
        "facturatie/facturen/lijst.csv",
        invoices.invoice_list_export,
        {"fmt": "csv"},
        name="invoice_list_csv",
    ),
    path(
        "facturatie/facturen/lijst.xlsx",
        invoices.invoice_list_export,
        {"fmt": "xlsx"},
        name="invoice_list_xlsx",
    ),
    path("facturatie/facturen/export.csv", invoices.invoice_export_csv, name="invoice_export_csv"),
    path(
        "facturatie/facturen/export.xlsx",
        invoices.invoice_export_xlsx,
        name="invoice_export_xlsx",
    ),
    path(
        "facturatie/facturen/goedkeuren/",
        invoices.invoice_approve_many,
        name="invoice_approve_many",
    ),
    path("facturatie/facturen/<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("facturatie/facturen/<int:pk>/factuur.pdf", invoices.invoice_pdf, name="invoice_pdf"),
    path("facturatie/facturen/<int:pk>/factuur.xml", invoices.invoice_ubl, name="invoice_ubl"),
    path("facturatie/bank/", payments.bank_import_list, name="bank_import_list"),
    path("facturatie/bank/<int:pk>/", payments.bank_import_detail, name="bank_import_detail"),
    path("onderzoek/", investigations.investigation_list, name="investigation_list"),
    path(
        "onderzoek/lijst.<str:fmt>",
        investigations.investigation_list_export,
        name="investigation_list_export",
    ),
    path("onderzoek/<int:pk>/", investigations.investigation_detail, name="investigation_detail"),
]
