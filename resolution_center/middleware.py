from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import TO_FIELD_VAR
from django.utils import timezone
from django.utils.cache import patch_cache_control

from .page_frame import page_frame


class UserTimeZoneMiddleware:
    """Render every datetime in the signed-in user's own time zone (stored in UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The zone comes with the rest of the page frame in one query (resolution_center.page_frame).
        frame = page_frame(request)
        if frame is not None:
            timezone.activate(frame.time_zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SignedInPagesNotStoredMiddleware:
    """Every response to a signed-in person says ``Cache-Control: private, no-store`` (OWASP ASVS
    V8.2.1): cases, payments and messages are never kept by a shared proxy, nor on the disk of a
    shared computer after signing out, and the back button refetches instead of showing them.

    Anonymous pages keep whatever caching they had, and static files never come this far
    (whitenoise answers them above the session middleware). Who is signed in is read after the view,
    so the response to the sign-in itself is covered and the one to signing out is not; the user is
    already loaded by then, so this costs no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # patch, not replace: keeps stricter directives a view set (never_cache's no-cache,
            # must-revalidate) and drops a contradicting "public".
            patch_cache_control(response, private=True, no_store=True)
        return response


class AdminEmptyToFieldMiddleware:
    """An empty ``_to_field`` on an admin change or delete page is refused with 400.

    Django admin checks a non-empty ``_to_field`` against the fields it may reach, but passes an
    empty one on to ``get_object``, whose ``get_field("")`` raises and answers 500 (found by
    tests/security/test_hostile_input.py on axes' access-log pages). Only admin URLs are looked at,
    and only once the request is routed there, so no other page reads its body here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.app_name != "admin":
            return None
        if request.GET.get(TO_FIELD_VAR) == "" or (request.method == "POST" and request.POST.get(TO_FIELD_VAR) == ""):
            raise DisallowedModelAdminToField("An empty _to_field is not a field.")
        return None

    def __call__(self, request):
        return self.get_response(request)
