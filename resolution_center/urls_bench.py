"""The real URLs plus the benchmark's baseline: a view that does nothing, behind the same
middleware as every page, so the ratio to it measures what each page itself costs."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_safe


@require_safe
def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("__bench__/trivial", trivial, name="bench-trivial"),
    path("", include("resolution_center.urls")),
]
