from django.utils import timezone

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
