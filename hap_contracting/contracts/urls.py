from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("contracten/", views.contract_list, name="contract_list"),
    path("contracten/lijst.<str:fmt>", views.contract_list_export, name="contract_list_export"),
    path("contracten/<int:pk>/", views.contract_detail, name="contract_detail"),
    path(
        "contracten/<int:pk>/documenten/<int:document_pk>/",
        views.contract_document,
        name="contract_document",
    ),
    path(
        "aanvragen/<int:pk>/contractering-afronden/",
        views.complete_contracting,
        name="complete_contracting",
    ),
]
