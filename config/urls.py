from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .healthz import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # First: the triage API answers during a call, and Django tries the patterns in order, so
    # it does not wait for every page's pattern to be tried (its prefixes are its own).
    path("", include("hap_contracting.triage.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("hap_contracting.dashboard.urls")),
    path("", include("hap_contracting.organisations.urls")),
    # Before the procedure's URLs: /aanvragen/<pk>/contractering-afronden/ would otherwise read
    # as one of the procedure's steps.
    path("", include("hap_contracting.contracts.urls")),
    path("", include("hap_contracting.procedure.urls")),
    path("", include("hap_contracting.billing.urls")),
]
