"""Email delivery: after commit, retried with backoff on failure, never lost, never sent twice."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction

from cases import services
from cases.models import Case, CaseEvent, Visibility
from notifications import services as notification_services
from notifications.models import EmailStatus, Notification
from notifications.tasks import notifications_deliver_due
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, case_in_state, merchant_of

from .conftest import START, prefer

pytestmark = pytest.mark.django_db


class FlakyBackend(LocmemBackend):
    """Refuses the first ``failures`` sends like an SMTP server that is down, then works."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.FlakyBackend"
    yield FlakyBackend
    FlakyBackend.failures = 0


@pytest.fixture
def denied_case_notification(clock):
    """A customer's pending "denied" notification whose delivery has not run yet."""
    scene = case_in_state("open", now=START)
    services.case_deny(case=scene.case, actor=scene.merchant, reason="delivered_as_described", message="No.", now=START)
    notification = Notification.objects.get(case=scene.case, kind="denied")
    assert notification.email_status == EmailStatus.PENDING
    # The "case opened" emails were dealt with long ago; only this one is in play.
    Notification.objects.exclude(pk=notification.pk).update(email_status=EmailStatus.SENT, email_next_attempt_at=None)
    return notification


def sweep_at(moment) -> int:
    """The every-minute safety net at ``moment``: how many emails it queued."""
    with time_machine.travel(moment, tick=False):
        return notifications_deliver_due()


def test_delivery_that_raises_is_retried_after_backoff_and_delivered_once(flaky, denied_case_notification):
    """The mail server refuses the first try: the email waits (backoff), is not resent early,
    and the sweep after the backoff delivers it exactly once."""
    flaky.failures = 1
    notification = denied_case_notification

    assert notification_services.notification_deliver(notification_id=notification.pk) == "retry"
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == (EmailStatus.PENDING, 1)
    assert notification.email_next_attempt_at == START + timedelta(seconds=60)
    assert "SMTPServerDisconnected" in notification.email_last_error
    assert mail.outbox == []

    assert sweep_at(START + timedelta(seconds=59)) == 0
    assert mail.outbox == []
    assert sweep_at(START + timedelta(seconds=61)) == 1
    assert sweep_at(START + timedelta(minutes=5)) == 0

    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == (EmailStatus.SENT, 2)


def test_delivery_backs_off_exponentially_and_gives_up_keeping_the_in_app_entry(
    flaky, settings, denied_case_notification
):
    """Each failure doubles the wait; after the last attempt the email is marked failed, and the
    notification is still in the recipient's list."""
    settings.NOTIFICATIONS = {"EMAIL_MAX_ATTEMPTS": 3}
    flaky.failures = 10
    notification = denied_case_notification
    waits = []
    for attempt in range(3):
        now = START + timedelta(hours=attempt)
        notification_services.notification_deliver(notification_id=notification.pk, now=now)
        notification.refresh_from_db()
        waits.append(notification.email_next_attempt_at - now if notification.email_next_attempt_at else None)

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), None]
    assert (notification.email_status, notification.email_attempts) == (EmailStatus.FAILED, 3)
    assert notification.read_at is None
    assert mail.outbox == []


def test_delivered_again_sends_nothing_twice(denied_case_notification):
    """A task retried by the broker (or queued twice) finds the email already sent."""
    notification = denied_case_notification

    assert notification_services.notification_deliver(notification_id=notification.pk) == "sent"
    assert notification_services.notification_deliver(notification_id=notification.pk) == "not_claimed"
    assert notification_services.notifications_deliver(ids=[notification.pk]) == {"not_claimed": 1}

    assert len(mail.outbox) == 1


def test_rolled_back_change_leaves_no_notification_and_no_email(django_capture_on_commit_callbacks):
    """If the change fails after its notifications were written, they roll back with it and no
    email is ever queued."""
    scene = case_in_state("open", now=START)
    before = Notification.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.case_deny(
            case=scene.case, actor=scene.merchant, reason="delivered_as_described", message="No.", now=START
        )
        assert Notification.objects.count() == before + 1
        raise RuntimeError("something after the denial failed")

    assert Notification.objects.count() == before
    assert callbacks == []
    assert mail.outbox == []
    assert scene.refresh().status == "open"


def test_email_is_queued_only_after_commit(django_capture_on_commit_callbacks):
    """Nothing is sent while the change's transaction is open; on commit the email goes out."""
    scene = case_in_state("open", now=START)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.case_deny(
            case=scene.case, actor=scene.merchant, reason="delivered_as_described", message="No.", now=START
        )
    assert mail.outbox == []
    for callback in callbacks:
        callback()

    assert [m.to for m in mail.outbox] == [[scene.customer.email]]


def test_email_has_a_text_and_an_html_part_and_a_stable_message_id(denied_case_notification):
    """Each email is multipart (plain text and HTML) and its Message-ID names the notification, so a
    mail system can recognise a duplicate."""
    notification = denied_case_notification

    notification_services.notification_deliver(notification_id=notification.pk)

    [message] = mail.outbox
    assert message.alternatives[0][1] == "text/html"
    assert message.extra_headers["Message-ID"] == f"<notification-{notification.pk}@127.0.0.1>"
    assert "What to do next" in message.body
    assert "What to do next" in message.alternatives[0][0]


def test_sent_email_is_recorded_on_the_timeline_for_the_recipients_side_only(denied_case_notification):
    """The case timeline records each email sent, visible to the recipient's side (and reviewers)."""
    notification = denied_case_notification

    notification_services.notification_deliver(notification_id=notification.pk)

    row = CaseEvent.objects.get(case=notification.case, action="notification")
    assert row.visibility == Visibility.CUSTOMER
    assert row.actor_kind == "system"
    assert notification.recipient.email in row.note
    assert notification.subject in row.note


def test_emails_turned_off_before_delivery_are_not_sent_but_stay_in_the_list(denied_case_notification):
    """A recipient who turns emails off before the email went out gets no email; the in-app entry stays."""
    notification = denied_case_notification
    prefer(notification.recipient, emails=False)

    assert notification_services.notification_deliver(notification_id=notification.pk) == "skipped"

    assert mail.outbox == []
    assert Notification.objects.get(pk=notification.pk).email_status == EmailStatus.SKIPPED


def test_email_whose_task_never_ran_is_sent_by_the_sweep_after_the_grace_period(denied_case_notification):
    """If the process died between commit and queueing, the every-minute sweep sends the email."""
    assert sweep_at(START + timedelta(seconds=30)) == 0
    assert sweep_at(START + timedelta(seconds=61)) == 1

    assert len(mail.outbox) == 1


def test_claim_left_by_a_crashed_deliverer_is_handed_back_after_it_expires(denied_case_notification):
    """A worker that claimed an email and died: after its claim expires the sweep sends it, once."""
    notification = denied_case_notification
    Notification.objects.filter(pk=notification.pk).update(
        email_status=EmailStatus.SENDING, email_attempts=1, email_next_attempt_at=START + timedelta(minutes=5)
    )

    assert sweep_at(START + timedelta(minutes=4)) == 0
    assert sweep_at(START + timedelta(minutes=6)) == 1

    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=notification.pk).email_status == EmailStatus.SENT


def test_broker_unreachable_on_commit_leaves_the_email_for_the_sweep(monkeypatch, django_capture_on_commit_callbacks):
    """If queueing the delivery task fails, the change still stands and the email stays pending."""
    import django_q.tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(django_q.tasks, "async_task", broker_down)
    company = CompanyFactory()
    merchant_of(company)
    customer = UserFactory()
    payment = PaymentFactory(company=company, customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_open(customer=customer, payment=payment, reason="not_received", description="?")

    assert Case.objects.get(pk=case.pk).status == "open"
    assert set(Notification.objects.filter(case=case).values_list("email_status", flat=True)) == {EmailStatus.PENDING}
    assert mail.outbox == []
