"""Two task clusters sending the hourly message emails at the same minute, on PostgreSQL with real
concurrency: each (case, recipient) digest is claimed once, so each person gets one email."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from cases import services
from notifications.models import EmailStatus, Notification
from notifications.services import message_digests_send_due
from notifications.services import recording as notification_recording
from tests.factories import case_in_state
from tests.racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_two_workers_at_once_send_each_digest_once(monkeypatch):
    monkeypatch.setattr(notification_recording, "notifications_enqueue_delivery", lambda *, ids: None)
    scenes = [case_in_state("open", now=START) for _ in range(6)]
    for scene in scenes:
        for minutes in (5, 20, 40):
            services.case_message_post(
                case=scene.case, actor=scene.customer, body=f"At {minutes}", now=START + timedelta(minutes=minutes)
            )
    due = START + timedelta(minutes=70)
    mail.outbox.clear()

    results = race(
        lambda: message_digests_send_due(now=due),
        lambda: message_digests_send_due(now=due),
        lambda: message_digests_send_due(now=due),
    )

    sent = sum(outcome.get("sent", 0) for _, outcome in results)
    assert sent == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.merchant.email for s in scenes)
    assert all(m.body.count("The customer wrote on") == 3 for m in mail.outbox)
    assert set(Notification.objects.filter(kind="message").values_list("email_status", flat=True)) == {EmailStatus.SENT}
