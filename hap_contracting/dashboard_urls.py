from django.urls import path

from . import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard_index, name="index"),
    # Before the regions' own pages; no region is called "alle-regios".
    path("dashboard/alle-regios/", dashboard_views.dashboard_all_regions, name="all_regions"),
    path("dashboard/<slug:slug>/", dashboard_views.dashboard_region, name="region"),
]
