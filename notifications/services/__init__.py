"""Notifications, by job: who hears what (routing), recording them in the change's transaction
(recording), sending the emails afterwards (delivery, emails), and the person's own list and
settings (inbox). What each one says is in notifications.messages."""

from .delivery import (
    notification_deliver,
    notifications_deliver,
    notifications_deliver_due,
    notifications_enqueue_delivery,
)
from .digests import message_digest_send, message_digests_send_due
from .emails import notification_email_render
from .inbox import notification_mark_read, notifications_mark_all_read, user_preferences_update
from .recording import notifications_for_event, notifications_for_events, notifications_for_system_events

__all__ = [
    "message_digest_send",
    "message_digests_send_due",
    "notification_deliver",
    "notification_email_render",
    "notification_mark_read",
    "notifications_deliver",
    "notifications_deliver_due",
    "notifications_enqueue_delivery",
    "notifications_for_event",
    "notifications_for_events",
    "notifications_for_system_events",
    "notifications_mark_all_read",
    "user_preferences_update",
]
