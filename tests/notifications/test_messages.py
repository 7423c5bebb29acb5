"""Messages reach people (DOMAIN.md): a message tells the other side at once in the app, and by email
at most once an hour per case (one email listing every message that arrived since), sent by the
task cluster's every-minute digest task."""

from datetime import timedelta

import pytest
from django.core import mail

from cases import services
from notifications.models import EmailStatus, Notification, NotificationKind
from notifications.services import message_digests_send_due
from payments.models import Membership
from tests.factories import CompanyFactory, PaymentFactory, case_in_state, merchant_of

from .conftest import START, html_of, prefer, text_of

pytestmark = pytest.mark.django_db

HOUR = timedelta(minutes=60)


def send_digests(at):
    mail.outbox.clear()
    outcome = message_digests_send_due(now=at)
    return list(mail.outbox), outcome


# --- at once, in the app ----------------------------------------------------------------------------


def test_customer_message_tells_every_merchant_member_at_once_in_the_app_and_not_the_customer(act):
    """Each member of the company gets a "new message" entry with the words; the author gets none;
    no email goes out at once."""
    scene = case_in_state("open", now=START)
    support = merchant_of(scene.case.company, role=Membership.Role.SUPPORT)

    outcome = act(
        lambda: services.case_message_post(
            case=scene.case, actor=scene.customer, body="Any news on my parcel?", now=scene.later(hours=1)
        )
    )

    assert outcome.recipients == {scene.merchant.pk, support.pk}
    for notification in outcome.notifications:
        assert notification.kind == NotificationKind.MESSAGE
        assert notification.party == "merchant"
        assert "new message from the customer" in notification.subject
        assert "“Any news on my parcel?”" in notification.what_happened
        assert notification.email_status == EmailStatus.DIGEST
    assert outcome.emails == []


def test_merchant_message_tells_the_customer_by_the_company_name(act):
    scene = case_in_state("open", now=START)

    outcome = act(
        lambda: services.case_message_post(
            case=scene.case, actor=scene.merchant, body="Shipped today.", now=scene.later(hours=1)
        )
    )

    [notification] = outcome.notifications
    assert notification.recipient_id == scene.customer.pk
    assert f"new message from {scene.case.company.name}" in notification.subject
    assert outcome.emails == []


def test_member_writing_does_not_tell_themself_but_tells_the_customer(act):
    """The other members are the merchant's own side: only the customer hears of it."""
    scene = case_in_state("open", now=START)
    merchant_of(scene.case.company, role=Membership.Role.SUPPORT)

    outcome = act(
        lambda: services.case_message_post(case=scene.case, actor=scene.merchant, body="On it.", now=scene.later())
    )

    assert outcome.recipients == {scene.customer.pk}


def test_reply_to_an_info_request_keeps_its_one_notice(act):
    """A reply is a message and a state change: the merchant hears once, by the "replied" notice."""
    scene = case_in_state("info_requested", now=START)

    outcome = act(
        lambda: services.case_reply(case=scene.case, actor=scene.customer, message="Main St 1", now=scene.later())
    )

    assert [n.kind for n in outcome.notifications] == [NotificationKind.REPLIED]
    assert not Notification.objects.filter(kind=NotificationKind.MESSAGE).exists()


def test_info_request_keeps_its_one_notice(act):
    scene = case_in_state("open", now=START)

    outcome = act(
        lambda: services.case_request_info(
            case=scene.case, actor=scene.merchant, message="Which address?", now=scene.later()
        )
    )

    assert [n.kind for n in outcome.notifications] == [NotificationKind.INFO_REQUESTED]


def test_reviewers_who_acted_on_an_appealed_case_see_its_messages_in_the_app_only(act):
    """While the reviewers hold a case, the reviewer who decided it hears of a party's message (in
    the app, linking to the admin page); other reviewers and the author do not."""
    scene = case_in_state("appealed", via="merchant", now=START)
    from tests.factories import reviewer

    bystander = reviewer()

    outcome = act(
        lambda: services.case_message_post(
            case=scene.case, actor=scene.customer, body="Here is the photo.", now=scene.later()
        )
    )

    [for_reviewer] = outcome.to(scene.reviewer)
    assert for_reviewer.party == "reviewer"
    assert for_reviewer.email_status == EmailStatus.SKIPPED
    assert "new message from the customer" in for_reviewer.subject
    assert outcome.to(bystander) == []
    assert outcome.to(scene.customer) == []
    assert outcome.to(scene.merchant)  # the other party, as always
    assert outcome.emails == []


def test_reviewers_are_not_told_of_messages_on_cases_they_do_not_hold(act):
    """Once the reviewers have decided and nobody appealed yet, messages are the parties' own."""
    scene = case_in_state("accepted", now=START)

    outcome = act(
        lambda: services.case_message_post(case=scene.case, actor=scene.customer, body="Thanks", now=scene.later())
    )

    assert outcome.to(scene.reviewer) == []


# --- the hourly email ---------------------------------------------------------------------------------


def test_three_messages_within_the_hour_make_one_email_listing_all_three():
    scene = case_in_state("open", now=START)
    first = scene.later(minutes=10)
    for minutes, body in ((10, "One"), (25, "Two"), (50, "Three")):
        services.case_message_post(case=scene.case, actor=scene.customer, body=body, now=scene.later(minutes=minutes))

    before, _ = send_digests(first + HOUR - timedelta(minutes=1))
    emails, outcome = send_digests(first + HOUR)
    again, _ = send_digests(first + HOUR + timedelta(minutes=5))

    assert before == [] and again == []
    [email] = emails
    assert email.to == [scene.merchant.email]
    assert email.subject == f"Case #{scene.case.pk} ({scene.payment.product.name}): 3 new messages"
    text = text_of(email)
    assert text.index("“One”") < text.index("“Two”") < text.index("“Three”")
    assert text.count("The customer wrote on") == 3
    assert f"/merchant/{scene.case.company_id}/cases/{scene.case.pk}/" in text
    assert "“Two”" in html_of(email)
    assert outcome == {"sent": 1}
    assert set(Notification.objects.filter(kind="message").values_list("email_status", flat=True)) == {"sent"}
    # The timeline records the one email, as for any other.
    assert scene.case.events.filter(action="notification", note__contains="3 new messages").count() == 1


def test_a_message_after_the_email_waits_for_its_own_hour_and_makes_a_second_email():
    scene = case_in_state("open", now=START)
    first = scene.later(minutes=10)
    services.case_message_post(case=scene.case, actor=scene.merchant, body="Shipped.", now=first)
    [first_email], _ = send_digests(first + HOUR)

    later = first + HOUR + timedelta(minutes=2)
    services.case_message_post(case=scene.case, actor=scene.merchant, body="Tracking: 123.", now=later)
    early, _ = send_digests(later + timedelta(minutes=30))
    [second_email], _ = send_digests(later + HOUR)

    assert early == []
    assert "“Shipped.”" in text_of(first_email) and "Tracking" not in text_of(first_email)
    assert "“Tracking: 123.”" in text_of(second_email) and "Shipped." not in text_of(second_email)
    assert second_email.to == [scene.customer.email]
    assert first_email.extra_headers["Message-ID"] != second_email.extra_headers["Message-ID"]


def test_emails_off_means_no_message_email_but_the_app_entry_stays():
    scene = case_in_state("open", now=START)
    prefer(scene.merchant, emails=False)
    services.case_message_post(case=scene.case, actor=scene.customer, body="Hello?", now=scene.later())

    emails, _ = send_digests(scene.later() + HOUR)

    assert emails == []
    [notification] = Notification.objects.filter(kind="message")
    assert notification.email_status == EmailStatus.SKIPPED


def test_emails_turned_off_before_the_hour_is_up_sends_nothing():
    scene = case_in_state("open", now=START)
    services.case_message_post(case=scene.case, actor=scene.customer, body="Hello?", now=scene.later())
    prefer(scene.merchant, emails=False)

    emails, outcome = send_digests(scene.later() + HOUR)

    assert emails == [] and outcome == {"skipped": 1}
    assert Notification.objects.get(kind="message").email_status == EmailStatus.SKIPPED


def test_each_case_and_each_recipient_gets_its_own_email():
    company = CompanyFactory()
    owner = merchant_of(company)
    support = merchant_of(company, role=Membership.Role.SUPPORT)
    cases = [
        services.case_open(
            customer=(p := PaymentFactory(company=company)).customer,
            payment=p,
            reason="not_received",
            description="?",
            now=START,
        )
        for _ in range(2)
    ]
    for case in cases:
        services.case_message_post(case=case, actor=case.customer, body="Hi", now=START + timedelta(minutes=1))

    emails, _ = send_digests(START + timedelta(minutes=1) + HOUR)

    assert sorted((e.to[0], e.subject.split(" (")[0]) for e in emails) == sorted(
        (user.email, f"Case #{case.pk}") for user in (owner, support) for case in cases
    )


def test_a_failed_send_is_retried_with_the_same_message_id_and_sent_once(monkeypatch):
    scene = case_in_state("open", now=START)
    services.case_message_post(case=scene.case, actor=scene.customer, body="Hello?", now=scene.later())
    due = scene.later() + HOUR

    from django.core.mail.backends.locmem import EmailBackend

    real_send = EmailBackend.send_messages
    tried = []

    def fail_once(self, messages):
        tried.append(messages[0].extra_headers["Message-ID"])
        if len(tried) == 1:
            raise OSError("mail server down")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", fail_once)
    first, outcome = send_digests(due)
    waiting, _ = send_digests(due + timedelta(seconds=30))
    [email], retried = send_digests(due + timedelta(minutes=2))

    assert (first, outcome, waiting, retried) == ([], {"retry": 1}, [], {"sent": 1})
    assert tried == [tried[0], tried[0]] and email.extra_headers["Message-ID"] == tried[0]
    assert send_digests(due + HOUR)[0] == []


def test_a_dead_workers_claim_is_handed_back_and_sent():
    """A worker that claimed the digest and died: when its lease runs out the next run sends it."""
    scene = case_in_state("open", now=START)
    services.case_message_post(case=scene.case, actor=scene.customer, body="Hello?", now=scene.later())
    due = scene.later() + HOUR
    Notification.objects.filter(kind="message").update(
        email_status=EmailStatus.SENDING, email_next_attempt_at=due + timedelta(minutes=5)
    )

    during, _ = send_digests(due + timedelta(minutes=1))
    [email], _ = send_digests(due + timedelta(minutes=6))

    assert during == []
    assert "“Hello?”" in text_of(email)


def test_the_one_email_safety_net_never_sends_a_message_alone():
    """The every-minute sweep of single emails leaves message notices to the digest."""
    from notifications.services import notifications_deliver_due

    scene = case_in_state("open", now=START)
    services.case_message_post(case=scene.case, actor=scene.customer, body="Hello?", now=scene.later())

    message_notice = Notification.objects.get(kind="message")

    notifications_deliver_due(now=scene.later() + 3 * HOUR)

    message_notice.refresh_from_db()
    assert message_notice.email_status == EmailStatus.DIGEST


def test_reviewer_finds_the_message_notice_from_the_admin_and_it_leads_to_the_admin_case_page(client):
    """The admin's header links to the reviewer's notifications; the notice opens the case in admin."""
    scene = case_in_state("escalated", now=START)
    services.case_reviewer_info_request(
        case=scene.case, actor=scene.reviewer, party="customer", message="Photo?", now=scene.later()
    )
    services.case_message_post(case=scene.case, actor=scene.customer, body="Here.", now=scene.later(hours=1))
    client.force_login(scene.reviewer)

    queue = client.get("/admin/cases/case/").content.decode()
    listed = client.get("/notifications/").content.decode()
    [notice] = Notification.objects.filter(recipient=scene.reviewer)
    opened = client.get(f"/notifications/{notice.pk}/open/")

    assert "Notifications (1 unread)" in queue
    assert "new message from the customer" in listed
    assert opened.status_code == 302 and opened["Location"] == f"/admin/cases/case/{scene.case.pk}/change/"
