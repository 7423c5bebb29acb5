"""The customer's case page and every action on it.

Actions are POST-only with post/redirect/get; a form posted after the case moved on answers
409 with the reason on the page, keeps what was typed, and changes nothing.
"""

import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CaseOutcome, CaseStatus, Message
from notifications.models import UserPreferences
from payments.models import Refund

from .conftest import png, renamed_executable, row_counts

pytestmark = pytest.mark.django_db


def _page(client, case):
    response = client.get(reverse("cases:case-detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _url(name, case):
    return reverse(f"cases:{name}", args=[case.pk])


def _escalate(case):
    services.case_escalate_overdue(case=case, now=case.respond_by + timedelta(minutes=1))


def test_case_page_shows_status_meaning_next_step_and_deadline_in_user_zone(client, customer_a, case_a):
    """The status is in plain words, with what happens next and the deadline in the user's own zone."""
    UserPreferences.objects.update_or_create(user=customer_a, defaults={"time_zone": "Asia/Tokyo"})
    client.force_login(customer_a)
    html = _page(client, case_a)
    local = case_a.respond_by.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert "Waiting for the merchant" in html
    assert "The merchant has 7 days to accept, deny or ask for more information." in html
    assert "You can add a message or withdraw the request." in html
    assert "The merchant must answer by" in html
    assert f"{local:%-d %b %Y, %H:%M} JST" in html
    assert "(Asia/Tokyo;" in html


def test_case_page_timeline_shows_messages_with_file_links(client, customer_a, merchant_x, case_a, attachment_a):
    """The timeline shows the opening, the merchant's request with its file, each with a download link."""
    services.case_request_info(
        case=case_a, actor=merchant_x, message="Please send the box label.", files=[png("howto.png")]
    )
    client.force_login(customer_a)
    html = _page(client, case_a)
    howto = case_a.attachments.get(original_name="howto.png")
    assert "You opened the case" in html
    assert "The kettle is green." in html
    assert "asked for more information" in html
    # Once in the timeline, once above the reply box (the question itself).
    assert html.count("Please send the box label.") == 2
    assert 'id="merchant-question">Please send the box label.' in html
    assert reverse("cases:attachment-download", args=[attachment_a.pk]) in html
    assert reverse("cases:attachment-download", args=[howto.pk]) in html
    assert "/evidence/" not in html


def test_case_page_hides_messages_meant_for_the_merchant(client, customer_a, reviewer_x, case_a):
    """A reviewer's question to the merchant is not on the customer's page; one to the customer is."""
    _escalate(case_a)
    services.case_reviewer_info_request(case=case_a, actor=reviewer_x, party="merchant", message="Merchant: tracking?")
    services.case_reviewer_info_request(case=case_a, actor=reviewer_x, party="customer", message="Customer: photos?")
    client.force_login(customer_a)
    html = _page(client, case_a)
    assert "Customer: photos?" in html
    assert "Merchant: tracking?" not in html
    assert "A platform reviewer" in html


def test_reply_with_file_answers_info_request(client, customer_a, merchant_x, case_a):
    """Replying to an info request sends the text and file and gives the case back to the merchant."""
    services.case_request_info(case=case_a, actor=merchant_x, message="Photo of the label?")
    client.force_login(customer_a)
    assert "Reply to Company X" in _page(client, case_a)
    response = client.post(_url("case-reply", case_a), {"message": "Here it is.", "files": [png("label.png")]})
    case_a.refresh_from_db()
    assert response["Location"] == _url("case-detail", case_a)
    assert case_a.status == CaseStatus.OPEN
    assert case_a.attachments.filter(original_name="label.png").exists()
    page = client.get(response["Location"]).content.decode()
    assert "Your reply was sent." in page
    assert "label.png" in page


def test_reply_bad_file_refused_and_nothing_saved(client, customer_a, merchant_x, case_a):
    """A renamed executable in a reply: 400, the text kept, no message, no file, still waiting on the customer."""
    services.case_request_info(case=case_a, actor=merchant_x, message="Photo of the label?")
    before = row_counts()
    client.force_login(customer_a)
    response = client.post(
        _url("case-reply", case_a), {"message": "See attached.", "files": [renamed_executable("label.png")]}
    )
    case_a.refresh_from_db()
    assert response.status_code == 400
    assert "“label.png” is not an accepted file type." in response.content.decode()
    assert "See attached.</textarea>" in response.content.decode()
    assert row_counts() == before
    assert case_a.status == CaseStatus.INFO_REQUESTED


def test_reply_posted_after_case_moved_on_answers_409(client, customer_a, merchant_x, case_a):
    """A reply form sent after the merchant denied the case answers 409, says why, keeps the text."""
    services.case_request_info(case=case_a, actor=merchant_x, message="Photo of the label?")
    client.force_login(customer_a)
    _page(client, case_a)
    services.case_deny(case=case_a, actor=merchant_x, reason="delivered_as_described", message="No.")
    before = row_counts()
    response = client.post(_url("case-reply", case_a), {"message": "Late answer", "files": [png()]})
    html = response.content.decode()
    assert response.status_code == 409
    assert "This case is denied, so you can no longer reply to an information request." in html
    assert "Late answer</textarea>" in html
    assert row_counts() == before


def test_reply_empty_answers_400(client, customer_a, merchant_x, case_a):
    """An empty reply is refused with a message and changes nothing."""
    services.case_request_info(case=case_a, actor=merchant_x, message="Photo?")
    client.force_login(customer_a)
    response = client.post(_url("case-reply", case_a), {"message": ""})
    case_a.refresh_from_db()
    assert response.status_code == 400
    assert "Please write your reply." in response.content.decode()
    assert case_a.status == CaseStatus.INFO_REQUESTED


def test_message_added_without_changing_status(client, customer_a, case_a):
    """A message on an open case is added; the status and the merchant's deadline stay."""
    deadline = case_a.respond_by
    client.force_login(customer_a)
    response = client.post(_url("case-message", case_a), {"body": "Any news?"})
    case_a.refresh_from_db()
    assert response.status_code == 302
    assert case_a.messages.filter(body="Any news?").count() == 1
    assert (case_a.status, case_a.respond_by) == (CaseStatus.OPEN, deadline)


def test_message_sent_twice_from_same_form_is_added_once(client, customer_a, case_a):
    """The same message form sent twice (double click) adds one message."""
    client.force_login(customer_a)
    payload = {"body": "Hello?", "submission_token": "c" * 32}
    first = client.post(_url("case-message", case_a), payload)
    second = client.post(_url("case-message", case_a), payload)
    assert first.status_code == second.status_code == 302
    assert Message.objects.filter(case=case_a, body="Hello?").count() == 1


def test_message_after_failed_attempt_can_be_sent_with_same_form(client, customer_a, case_a):
    """A form that came back with an error can be corrected and sent: its token was not used up."""
    client.force_login(customer_a)
    token = "d" * 32
    bad = client.post(
        _url("case-message", case_a), {"body": "Hi", "files": [renamed_executable()], "submission_token": token}
    )
    good = client.post(_url("case-message", case_a), {"body": "Hi", "submission_token": token})
    assert bad.status_code == 400
    assert good.status_code == 302
    assert Message.objects.filter(case=case_a, body="Hi").count() == 1


def test_message_on_closed_case_answers_409(client, customer_a, merchant_x, case_a):
    """Once the case is closed no message can be added: 409 with the reason."""
    client.force_login(customer_a)
    services.case_accept(case=case_a, actor=merchant_x)
    response = client.post(_url("case-message", case_a), {"body": "Thanks"})
    assert response.status_code == 409
    assert "This case is closed, so no more messages can be added." in response.content.decode()
    assert not Message.objects.filter(body="Thanks").exists()


def test_withdraw_closes_case_after_confirmation(client, customer_a, case_a):
    """The page asks to confirm; the confirmed POST closes the case as withdrawn."""
    client.force_login(customer_a)
    html = _page(client, case_a)
    assert "Withdraw this request" in html
    assert "Yes, withdraw my request" in html
    response = client.post(_url("case-withdraw", case_a))
    case_a.refresh_from_db()
    assert response.status_code == 302
    assert (case_a.status, case_a.outcome) == (CaseStatus.FINAL, CaseOutcome.WITHDRAWN)
    assert "Closed: withdrawn" in client.get(response["Location"]).content.decode()


def test_withdraw_by_get_answers_405(client, customer_a, case_a):
    """Opening the withdraw address in the browser (GET) changes nothing."""
    client.force_login(customer_a)
    assert client.get(_url("case-withdraw", case_a)).status_code == 405
    case_a.refresh_from_db()
    assert case_a.status == CaseStatus.OPEN


def test_withdraw_after_merchant_accepted_answers_409(client, customer_a, merchant_x, case_a):
    """Withdrawing a case the merchant already accepted answers 409 and keeps the refund."""
    client.force_login(customer_a)
    services.case_accept(case=case_a, actor=merchant_x)
    response = client.post(_url("case-withdraw", case_a))
    case_a.refresh_from_db()
    assert response.status_code == 409
    assert "you can no longer withdraw it" in response.content.decode()
    assert case_a.outcome == CaseOutcome.REFUNDED


def test_accepted_case_shows_the_refund_on_its_way_then_sent(client, customer_a, merchant_x, case_a):
    """After the merchant accepts, the customer sees at the top that the $50.00 refund is on its way;
    once the processor has sent it, the page says it was refunded (and the banner is gone)."""
    services.case_accept(case=case_a, actor=merchant_x)
    client.force_login(customer_a)
    html = _page(client, case_a)
    assert "Closed: refunded" in html
    assert "The $50.00 refund is on its way." in html
    assert "$50.00 refund requested from the payment processor." in html

    services.refunds_send_due()  # what the task cluster runs once the decision commits
    html = _page(client, case_a)
    assert "$50.00 refunded</strong>" in html
    assert "Sent to the original payment method on" in html
    assert "$50.00 refunded to the original payment method." in html
    assert "is on its way" not in html


def test_refund_refused_by_the_processor_shows_the_customer_a_delay_without_the_processors_words(
    client, customer_a, merchant_x, case_a, settings
):
    """A refusal is the platform's problem, not the customer's: the page says the refund is delayed
    and that nothing is needed from them; the processor's internal reason is for the merchant."""
    settings.REFUND_GATEWAY = "tests.deadlines.test_sweep.RefusingGateway"
    services.case_accept(case=case_a, actor=merchant_x)
    services.refunds_send_due()
    client.force_login(customer_a)
    html = _page(client, case_a)
    assert "The $50.00 refund is delayed." in html
    assert "you do not need to do anything" in html
    assert "card expired" not in html


def test_appeal_denied_case(client, customer_a, merchant_x, case_a):
    """A denied case offers an appeal; sending it puts the case with the reviewers."""
    services.case_deny(case=case_a, actor=merchant_x, reason="delivered_as_described", message="Kettles are green.")
    client.force_login(customer_a)
    html = _page(client, case_a)
    assert "Appeal to the platform" in html
    assert "You may appeal until" in html
    response = client.post(_url("case-appeal", case_a), {"statement": "The photo shows it is green, not blue."})
    case_a.refresh_from_db()
    assert response.status_code == 302
    assert case_a.status == CaseStatus.APPEALED
    assert "Appeal to the platform" not in client.get(response["Location"]).content.decode()


def test_appeal_empty_statement_answers_400(client, customer_a, merchant_x, case_a):
    """An appeal needs a reason: 400 and the case stays denied."""
    services.case_deny(case=case_a, actor=merchant_x, reason="delivered_as_described", message="It was delivered.")
    client.force_login(customer_a)
    response = client.post(_url("case-appeal", case_a), {"statement": " "})
    case_a.refresh_from_db()
    assert response.status_code == 400
    assert "Please say why you appeal." in response.content.decode()
    assert case_a.status == CaseStatus.DENIED


def test_appeal_second_time_answers_409(client, customer_a, merchant_x, case_a):
    """A second appeal (another form) answers 409: a case is appealed once."""
    services.case_deny(case=case_a, actor=merchant_x, reason="delivered_as_described", message="It was delivered.")
    client.force_login(customer_a)
    client.post(_url("case-appeal", case_a), {"statement": "First", "submission_token": "e" * 32})
    response = client.post(_url("case-appeal", case_a), {"statement": "Second", "submission_token": "f" * 32})
    assert response.status_code == 409
    assert case_a.events.filter(action="appealed").count() == 1


def test_appeal_after_deadline_answers_409(client, customer_a, merchant_x, case_a):
    """An appeal form sent after the appeal window closed answers 409 with the reason."""
    services.case_deny(
        case=case_a,
        actor=merchant_x,
        now=timezone.now() - timedelta(days=8),
        reason="delivered_as_described",
        message="It was delivered.",
    )
    client.force_login(customer_a)
    assert "Appeal to the platform" not in _page(client, case_a)
    response = client.post(_url("case-appeal", case_a), {"statement": "Too late?"})
    assert response.status_code == 409
    assert "The deadline to appeal passed" in response.content.decode()


def test_accept_decision_makes_denial_final(client, customer_a, merchant_x, case_a):
    """Accepting the decision instead of appealing closes the case as denied, with no money moved."""
    services.case_deny(case=case_a, actor=merchant_x, reason="delivered_as_described", message="It was delivered.")
    client.force_login(customer_a)
    assert "Yes, accept the decision" in _page(client, case_a)
    response = client.post(_url("case-appeal-waive", case_a))
    case_a.refresh_from_db()
    assert response.status_code == 302
    assert (case_a.status, case_a.outcome) == (CaseStatus.FINAL, CaseOutcome.DENIED)
    assert not Refund.objects.exists()


@pytest.mark.parametrize("who", ["customer_b", "merchant_x", "merchant_y", "reviewer_x"])
def test_case_page_of_someone_elses_case_answers_404(client, request, case_a, who):
    """Only the customer who opened the case reaches its customer page; everyone else gets 404."""
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url("case-detail", case_a)).status_code == 404
    assert client.post(_url("case-withdraw", case_a)).status_code == 404
    case_a.refresh_from_db()
    assert case_a.status == CaseStatus.OPEN


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_message_same_form_sent_concurrently_is_added_once(customer_a, case_a):
    """Two requests carrying the same form at the same instant, as two web processes would see
    them: exactly one message is added and both requests end on the case page."""
    import threading

    from django.db import connection
    from django.test import Client

    barrier = threading.Barrier(2)
    statuses = []

    def send():
        try:
            client = Client()
            client.force_login(customer_a)
            barrier.wait()
            response = client.post(_url("case-message", case_a), {"body": "Same click", "submission_token": "9" * 32})
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert Message.objects.filter(case=case_a, body="Same click").count() == 1


@pytest.mark.parametrize("state", ["open", "info_requested", "denied"])
def test_case_page_ids_are_unique_so_labels_find_their_fields(client, customer_a, merchant_x, case_a, state):
    """With several forms on the page, every element id appears once, so each label names its own field."""
    import collections
    import re

    if state == "info_requested":
        services.case_request_info(case=case_a, actor=merchant_x, message="Photo?")
    elif state == "denied":
        services.case_deny(case=case_a, actor=merchant_x, reason="delivered_as_described", message="It was delivered.")
    client.force_login(customer_a)
    html = _page(client, case_a)
    ids = collections.Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    targets = re.findall(r'<label for="([^"]+)"', html)
    assert targets, "the case page has forms, so it has labels"
    assert {target: ids[target] for target in targets} == dict.fromkeys(targets, 1)
