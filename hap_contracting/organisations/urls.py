from django.urls import path

from . import views

app_name = "organisations"

urlpatterns = [
    path("locaties/", views.location_list, name="location_list"),
    path("locaties/lijst.<str:fmt>", views.location_list_export, name="location_list_export"),
    path("locaties/<int:pk>/", views.location_detail, name="location_detail"),
    path("locaties/nieuw/", views.location_create, name="location_create"),
    path("organisaties/", views.organisation_list, name="organisation_list"),
    path(
        "organisaties/<int:pk>/factuurgegevens/",
        views.organisation_invoice_details,
        name="organisation_invoice_details",
    ),
]
