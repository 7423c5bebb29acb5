"""The email for one notification: text and HTML parts, the deadline in the recipient's own zone."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from resolution_center.formatting import format_deadline_for_email, format_money

from ..links import case_url, notifications_settings_url
from ..models import Notification
from ..selectors import user_time_zone


def _message_id(notification: Notification) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "resolution-center.invalid"
    return f"<notification-{notification.pk}@{host}>"


def notification_email_render(*, notification: Notification) -> EmailMultiAlternatives:
    """The email for one notification: text and HTML parts, the deadline in the recipient's time zone."""
    recipient = notification.recipient
    case = notification.case
    tz = user_time_zone(recipient)
    context = {
        "notification": notification,
        "subject": notification.subject,
        "recipient_name": recipient.get_full_name() or recipient.get_username(),
        "case": case,
        "company_name": case.company.name,
        "product_name": case.payment.product.name,
        "amount": format_money(case.payment.amount_cents, case.payment.currency),
        "deadline_text": format_deadline_for_email(notification.deadline, tz),
        "case_url": case_url(case=case, party=notification.party),
        "settings_url": notifications_settings_url(),
    }
    text = render_to_string("emails/notification.txt", context)
    html = render_to_string("emails/notification.html", context)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Message-ID": _message_id(notification)},
    )
    message.attach_alternative(html, "text/html")
    return message
