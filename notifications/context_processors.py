from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread_notifications(request) -> dict:
    """The unread count for the page header; counted only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread_count": SimpleLazyObject(lambda: unread_count(user=user))}
