from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.urls_pages import token_urlpatterns
from cases.views.auth import PasswordChangeView, SignInView
from resolution_center.views import healthz

auth_patterns = [
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]

urlpatterns = [
    # The database check for load balancers; 403/404/500 pages are templates/<status>.html.
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Sign-in, sign-out and password change only: Django's views with the project's templates.
    path("accounts/", include(auth_patterns)),
    # The Developers area's webhooks (the webhooks app), before the rest of the merchant's pages.
    path("merchant/<id:company_id>/developers/webhooks/", include("webhooks.urls")),
    path("merchant/", include("cases.urls_merchant", namespace="merchant")),
    path("notifications/", include("notifications.urls")),
    # The developer API (Whop's, wire-compatible): /api/v1/…, its openapi.json and docs page.
    path("api/", include("api.urls")),
    path("merchant/<id:company_id>/developers/", include("api.urls_pages", namespace="developers")),
    *token_urlpatterns,
    path("", include("cases.urls")),
]
