from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .healthz import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("hap_contracting.api_urls")),
    path("", include("accounts.urls")),
    # Before the procedure's URLs: /aanvragen/<pk>/checklist/ would otherwise read as an action.
    path("", include("checklist.urls")),
    path("", include("hap_contracting.urls")),
    path("", include("hap_contracting.dashboard_urls")),
    path("", include("hap_contracting.billing_urls")),
]
