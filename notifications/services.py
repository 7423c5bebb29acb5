"""Notifications are recorded in the same transaction as the change they report."""


def notifications_for_event(*, event) -> list:
    """Record the notifications a timeline event calls for (see DOMAIN.md, Notifications)."""
    return []
