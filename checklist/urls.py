from django.urls import path

from . import views

app_name = "checklist"

urlpatterns = [
    path("aanvragen/<int:pk>/checklist/", views.assessment_page, name="assessment"),
    path("aanvragen/<int:pk>/checklist/starten/", views.assessment_start_view, name="start"),
    path("aanvragen/<int:pk>/checklist/afdrukken/", views.assessment_print, name="print"),
    path("aanvragen/<int:pk>/checklist/checklist.pdf", views.assessment_pdf, name="pdf"),
    path(
        "aanvragen/<int:pk>/checklist/afdrukken/<int:revision>/",
        views.assessment_print,
        name="print_revision",
    ),
]
