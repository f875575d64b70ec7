from django.urls import path

from . import views

app_name = "organisations"

urlpatterns = [
    path("locaties/nieuw/", views.location_create, name="location_create"),
]
