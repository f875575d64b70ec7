from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("dashboard/", views.dashboard_index, name="index"),
    # Before the regions' own pages; no region is called "alle-regios".
    path("dashboard/alle-regios/", views.dashboard_all_regions, name="all_regions"),
    path("dashboard/<slug:slug>/", views.dashboard_region, name="region"),
]
