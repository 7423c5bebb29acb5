"""Run an action and see the notifications and emails it produced (on-commit tasks executed)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail

from notifications.models import Notification, UserPreferences

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Outcome:
    notifications: list = field(default_factory=list)
    emails: list = field(default_factory=list)

    def to(self, user) -> list:
        return [n for n in self.notifications if n.recipient_id == user.pk]

    def emails_to(self, user) -> list:
        return [m for m in self.emails if m.to == [user.email]]

    @property
    def recipients(self) -> set[int]:
        return {n.recipient_id for n in self.notifications}


@pytest.fixture
def clock():
    """The wall clock stands still at START (services called without ``now`` use it)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """``act(lambda: service(...))`` -> Outcome: the notifications written and the emails sent."""

    def run(call) -> Outcome:
        last = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            call()
        created = list(Notification.objects.filter(id__gt=last).select_related("recipient").order_by("id"))
        return Outcome(notifications=created, emails=list(mail.outbox))

    return run


def prefer(user, *, time_zone: str = "UTC", emails: bool = True) -> None:
    UserPreferences.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "resolution_center_emails": emails}
    )


def text_of(message) -> str:
    return message.body


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html
