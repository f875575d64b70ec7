from django.urls import path

from . import views

app_name = "hap_contracting"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("aanvragen/", views.request_list, name="request_list"),
    path("aanvragen/nieuw/", views.request_create, name="request_create"),
    path("aanvragen/<int:pk>/", views.request_detail, name="request_detail"),
    path("aanvragen/<int:pk>/<slug:action>/", views.request_action, name="request_action"),
    path("locaties/nieuw/", views.location_create, name="location_create"),
    path("procedure/", views.procedure_graph, name="procedure_graph"),
    path("status/<uuid:token>/", views.requester_status, name="requester_status"),
]
