"""The project's URLs plus views that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from resolution_center.urls import urlpatterns as project_urlpatterns

INTERNAL_DETAIL = "db password hunter2 at /srv/app/secret.py line 42"


def fails_with_an_exception(request):
    raise RuntimeError(INTERNAL_DETAIL)


def refuses_permission(request):
    raise PermissionDenied(INTERNAL_DETAIL)


urlpatterns = [
    path("test-errors/500/", fails_with_an_exception),
    path("test-errors/403/", refuses_permission),
    *project_urlpatterns,
]
