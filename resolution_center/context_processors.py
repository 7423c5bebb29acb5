from django.utils.functional import SimpleLazyObject

from resolution_center.page_frame import page_frame


def unread_notifications(request) -> dict:
    """The unread count for the page header; counted only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Counted with the rest of the page frame, in the one query every signed-in request makes.
    return {"notifications_unread_count": SimpleLazyObject(lambda: page_frame(request).unread)}
