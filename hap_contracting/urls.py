from django.urls import path

from . import views

app_name = "hap_contracting"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("aanvragen/", views.request_list, name="request_list"),
    path("aanvragen/nieuw/", views.request_create, name="request_create"),
    path("aanvragen/<int:pk>/", views.request_detail, name="request_detail"),
    path("aanvragen/<int:pk>/<slug:action>/", views.request_action, name="request_action"),
    path("contracten/", views.contract_list, name="contract_list"),
    path("contracten/<int:pk>/", views.contract_detail, name="contract_detail"),
    path(
        "contracten/<int:pk>/documenten/<int:document_pk>/",
        views.contract_document,
        name="contract_document",
    ),
    path("locaties/nieuw/", views.location_create, name="location_create"),
    path("procedure/", views.procedure_graph, name="procedure_graph"),
    path("status/<uuid:token>/", views.requester_status, name="requester_status"),
]
