"""The merchant's answers on the case page: each does what it says once, the "N open
resolutions" button follows, and bad input gets a clear message, a 4xx and nothing half-saved."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Attachment, CaseEvent, CaseStatus, Message
from payments.gateways import RefundGateway, RefundResult
from payments.models import Refund
from tests.factories import PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db

# A complete deny form: a reason, a message and the confirmation (issue 12 §3).
DENY = {"confirm": "on", "reason": "delivered_as_described", "message": "It was delivered on Monday."}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def png(name="proof.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def open_case(company, *, now=None, customer=None):
    now = now or timezone.now()
    paid = PaymentFactory(company=company, customer=customer or UserFactory(), paid_at=now - timedelta(days=1))
    return services.case_open(customer=paid.customer, payment=paid, reason="not_received", description="Lost", now=now)


def action_url(name, case):
    return reverse(f"merchant:case-{name}", args=[case.company_id, case.pk])


def case_url(case):
    return reverse("merchant:case", args=[case.company_id, case.pk])


def open_count(client, company) -> int:
    text = client.get(reverse("merchant:cases", args=[company.pk])).content.decode()
    return int(re.search(r'id="open-resolutions"[^>]*>\s*(\d+) open resolution', text).group(1))


@pytest.fixture
def signed_in(client, merchant):
    client.force_login(merchant)
    return client


# --- the answers -------------------------------------------------------------------------------


def test_accept_with_confirmation_refunds_and_closes(signed_in, company):
    """Accept with the box ticked refunds what is left of the payment once and closes the case."""
    case = open_case(company)
    response = signed_in.post(action_url("accept", case), {"confirm": "on", "note": "Sorry about that."})
    assert response.status_code == 302 and response["Location"] == case_url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.FINAL and case.outcome == "refunded"
    assert Refund.objects.filter(case=case).count() == 1
    page = signed_in.get(case_url(case)).content.decode()
    assert "You accepted the case; the refund is on its way to the customer." in page
    assert "The $50.00 refund is on its way." in page


class RefusingProcessor(RefundGateway):
    def refund(self, order):
        return RefundResult(succeeded=False, failure_message="Insufficient funds in the merchant account.")


def test_a_refused_refund_shows_the_merchant_the_processors_reason_and_the_next_attempt(
    signed_in, company, settings, django_capture_on_commit_callbacks
):
    """The merchant (who pays) sees why the refund did not go out and when it is tried again; once
    the processor sends it, the page says refunded with the processor's reference."""
    settings.REFUND_GATEWAY = "tests.web.test_merchant_actions.RefusingProcessor"
    case = open_case(company)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(action_url("accept", case), {"confirm": "on"})
    refund = Refund.objects.get(case=case)
    page = signed_in.get(case_url(case)).content.decode()
    assert "The $50.00 refund is delayed." in page
    assert "The payment processor said: “Insufficient funds in the merchant account”" in page
    assert "Next attempt" in page

    settings.REFUND_GATEWAY = "payments.gateways.DatabaseRefundGateway"
    services.refunds_send_due(now=refund.next_attempt_at)
    page = signed_in.get(case_url(case)).content.decode()
    assert "$50.00 refunded</strong>" in page
    assert f"Reference {Refund.objects.get(case=case).processor_reference}." in page
    assert "is delayed" not in page


def test_accept_without_confirmation_is_refused_and_changes_nothing(signed_in, company):
    """Accept without ticking the "cannot be undone" box is a 400 with a message; the case stays
    open and no money moves; the typed note is kept."""
    case = open_case(company)
    response = signed_in.post(action_url("accept", case), {"note": "Typed note"})
    text = response.content.decode()
    assert response.status_code == 400
    assert "Please tick the box to confirm the refund" in text
    assert "Typed note" in text
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert not Refund.objects.filter(case=case).exists()


def test_deny_with_confirmation_sets_appeal_by_seven_days_later_and_shows_it(signed_in, company, merchant):
    """Deny with the box ticked moves the case to denied with the customer's appeal window ending
    exactly APPEAL_DAYS (7) days after the denial; the page the merchant lands on says so, with the
    date and the time left, and no money moves."""
    denied_at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(denied_at, tick=False):
        signed_in.force_login(merchant)  # a session started at the frozen time, whatever today is
        case = open_case(company)
        response = signed_in.post(
            action_url("deny", case),
            {"confirm": "on", "reason": "delivered_as_described", "message": "Delivered on Monday."},
        )
        page = signed_in.get(response["Location"]).content.decode()

    assert settings.RESOLUTION["APPEAL_DAYS"] == 7
    appeal_by = denied_at + timedelta(days=settings.RESOLUTION["APPEAL_DAYS"])
    assert response.status_code == 302 and response["Location"] == case_url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.DENIED
    assert case.appeal_by == appeal_by == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
    assert case.next_deadline_at == appeal_by
    assert not Refund.objects.filter(case=case).exists()
    deadline = re.search(r'<p class="deadline">(.*?)</p>', page, re.S).group(1)
    assert "The customer may appeal until" in deadline
    assert '<time datetime="2026-03-09T09:30:00+00:00">9 Mar 2026, 09:30 UTC</time>' in deadline
    assert "(UTC; 1\xa0week left)" in deadline


def test_deny_without_confirmation_is_refused(signed_in, company):
    """Deny needs the confirmation too."""
    case = open_case(company)
    response = signed_in.post(action_url("deny", case), {"reason": "delivered_as_described", "message": "x"})
    assert response.status_code == 400
    assert "Please tick the box to confirm the denial" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_request_info_with_file_asks_customer_and_counts_down(signed_in, company):
    """Request more info sends the question (with a file) to the customer and the page then says
    how many of the 3 requests are left."""
    case = open_case(company)
    response = signed_in.post(action_url("request-info", case), {"message": "A photo please?", "files": [png()]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.INFO_REQUESTED and case.info_requests_count == 1
    message = Message.objects.get(case=case, body="A photo please?")
    assert message.attachments.count() == 1
    services.case_reply(case=case, actor=case.customer, message="Here it is")
    assert "(2 of 3 requests left)" in signed_in.get(case_url(case)).content.decode()


def test_request_info_fourth_time_is_refused_with_clear_message(signed_in, company):
    """After three requests the page says none are left, and a fourth posted anyway is refused
    with a clear message and a 4xx; nothing is recorded."""
    case = open_case(company)
    for n in range(3):
        assert signed_in.post(action_url("request-info", case), {"message": f"Question {n}"}).status_code == 302
        services.case_reply(case=case, actor=case.customer, message=f"Answer {n}")
    text = signed_in.get(case_url(case)).content.decode()
    assert "(0 of 3 requests left)" in text
    assert "You have already asked for more information 3 times; please accept or deny the case." in text
    messages_before = Message.objects.filter(case=case).count()

    response = signed_in.post(action_url("request-info", case), {"message": "Question 4"})

    assert response.status_code == 409
    assert "already asked for more information 3 times" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.info_requests_count == 3
    assert Message.objects.filter(case=case).count() == messages_before


def test_message_with_proof_files_is_added_without_changing_state(signed_in, company):
    """A reply with up to three files is added to the timeline; the case still waits on the
    merchant (a message does not answer the case)."""
    case = open_case(company)
    files = [png("a.png"), png("b.png"), SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")]
    response = signed_in.post(action_url("message", case), {"body": "Tracking: 123", "files": files})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert Attachment.objects.filter(case=case).count() == 3
    text = signed_in.get(case_url(case)).content.decode()
    assert "Tracking: 123" in text and "c.pdf" in text


def test_appeal_of_reviewer_refund_by_merchant(signed_in, company, reviewer_user):
    """On a reviewer's refund the merchant may appeal once; the case goes back to reviewers."""
    case = open_case(company, now=timezone.now() - timedelta(days=8))
    services.case_escalate_overdue(case=case)
    services.case_decide(case=case, actor=reviewer_user, decision="refund", note="Refund it.")
    response = signed_in.post(action_url("appeal", case), {"statement": "We have the delivery photo."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.APPEALED and case.appealed_by_kind == "merchant"


def test_accept_decision_of_reviewer_refund_makes_it_final(signed_in, company, reviewer_user):
    """Accepting the reviewer's refund (with confirmation) refunds now and closes the case."""
    case = open_case(company, now=timezone.now() - timedelta(days=8))
    services.case_escalate_overdue(case=case)
    services.case_decide(case=case, actor=reviewer_user, decision="refund", note="Refund it.")
    assert signed_in.post(action_url("appeal-waive", case), {}).status_code == 400
    response = signed_in.post(action_url("appeal-waive", case), {"confirm": "on"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.FINAL and case.outcome == "refunded"
    assert Refund.objects.filter(case=case).count() == 1


def _escalated_case(company):
    case = open_case(company, now=timezone.now() - timedelta(days=8))
    services.case_escalate_overdue(case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    return case


def test_refund_in_full_without_confirmation_is_refused_keeping_the_note(signed_in, company):
    """Refund in full without ticking "cannot be undone" is a 400 that says why, with the typed note
    still in the box; the case stays with the reviewers and no money moves."""
    case = _escalated_case(company)
    response = signed_in.post(action_url("refund-in-full", case), {"note": "We give up, sorry."})
    text = response.content.decode()
    assert response.status_code == 400
    assert "Please tick the box to confirm the refund; it cannot be undone." in text
    assert "We give up, sorry.</textarea>" in text
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    assert not Refund.objects.filter(case=case).exists()


def test_refund_in_full_of_an_escalated_case_closes_it_as_refunded(signed_in, company):
    """The escalated case page offers "Refund $50.00 now"; confirmed, it refunds once, closes the case
    as refunded and says the refund is on its way to the customer."""
    case = _escalated_case(company)
    assert "Refund $50.00 now" in signed_in.get(case_url(case)).content.decode()

    response = signed_in.post(action_url("refund-in-full", case), {"confirm": "on", "note": "We give up."})

    assert response.status_code == 302 and response["Location"] == case_url(case)
    case.refresh_from_db()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, "refunded")
    assert Refund.objects.filter(case=case).count() == 1
    page = signed_in.get(case_url(case)).content.decode()
    assert "You refunded the customer in full and the case is closed; the refund is on its way to the customer." in page
    assert "Refund $50.00 now" not in page


# --- the open resolutions count ----------------------------------------------------------------


def test_open_resolutions_count_follows_every_action(signed_in, company):
    """The button counts cases waiting on the merchant after each step: a request for info takes
    one off, the customer's reply puts it back, a message changes nothing, accept and deny take
    cases off."""
    first, second = open_case(company), open_case(company)
    assert open_count(signed_in, company) == 2

    signed_in.post(action_url("request-info", first), {"message": "Photo?"})
    assert open_count(signed_in, company) == 1

    services.case_reply(case=first, actor=first.customer, message="Here")
    assert open_count(signed_in, company) == 2

    signed_in.post(action_url("message", first), {"body": "Thanks, looking."})
    assert open_count(signed_in, company) == 2

    signed_in.post(action_url("accept", first), {"confirm": "on"})
    assert open_count(signed_in, company) == 1

    signed_in.post(action_url("deny", second), DENY)
    assert open_count(signed_in, company) == 0


def test_open_resolutions_count_on_page_right_after_action(signed_in, company):
    """The page the merchant lands on after an action already shows the new count."""
    case = open_case(company)
    open_case(company)
    response = signed_in.post(action_url("deny", case), DENY, follow=True)
    assert re.search(r'id="open-resolutions"[^>]*>\s*1 open resolution<', response.content.decode())


# --- bad input ---------------------------------------------------------------------------------


def test_message_empty_is_refused_with_400(signed_in, company):
    """An empty (or blank) message is a 400 with "Please write a message." and nothing saved."""
    case = open_case(company)
    before = (Message.objects.count(), CaseEvent.objects.count())
    response = signed_in.post(action_url("message", case), {"body": "   "})
    assert response.status_code == 400
    assert "Please write a message." in response.content.decode()
    assert (Message.objects.count(), CaseEvent.objects.count()) == before


def test_message_with_four_files_is_refused_and_nothing_saved(signed_in, company):
    """A fourth file is refused with a clear message and a 400; no message, file or event is
    saved and the typed text is kept."""
    case = open_case(company)
    before = (Message.objects.count(), Attachment.objects.count(), CaseEvent.objects.count())
    response = signed_in.post(
        action_url("message", case), {"body": "Four proofs", "files": [png(f"{n}.png") for n in range(4)]}
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "at most 3 files" in text
    assert "Four proofs" in text
    assert (Message.objects.count(), Attachment.objects.count(), CaseEvent.objects.count()) == before


def test_request_info_with_renamed_executable_is_refused(signed_in, company):
    """An executable renamed to .png is refused by its content; the case does not move."""
    case = open_case(company)
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00" + b"\x00" * 60, content_type="image/png")
    response = signed_in.post(action_url("request-info", case), {"message": "See", "files": [fake]})
    assert response.status_code == 400
    assert "photo.png" in response.content.decode() and "not an accepted file type" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.info_requests_count == 0
    assert not Attachment.objects.filter(case=case).exists()


def test_accept_after_customer_withdrew_gets_clear_409(signed_in, company):
    """Accept posted from a page loaded before the customer withdrew: a 409 that says the case is
    closed, and no refund."""
    case = open_case(company)
    signed_in.get(case_url(case))
    services.case_withdraw(case=case, actor=case.customer)
    response = signed_in.post(action_url("accept", case), {"confirm": "on"})
    text = response.content.decode()
    assert response.status_code == 409
    assert "This case is closed, so you can no longer accept it." in text
    assert not Refund.objects.filter(case=case).exists()


def test_deny_after_accept_gets_clear_409_and_keeps_refund(signed_in, company):
    """Deny arriving after a colleague accepted is refused; the refund stands, nothing else changes."""
    case = open_case(company)
    signed_in.post(action_url("accept", case), {"confirm": "on"})
    events = CaseEvent.objects.filter(case=case).count()
    response = signed_in.post(action_url("deny", case), DENY)
    assert response.status_code == 409
    assert "you can no longer deny it" in response.content.decode()
    case.refresh_from_db()
    assert case.outcome == "refunded"
    assert CaseEvent.objects.filter(case=case).count() == events


def test_message_on_closed_case_is_refused(signed_in, company):
    """A message posted to a case that closed meanwhile is refused with a 409 and not saved."""
    case = open_case(company)
    services.case_withdraw(case=case, actor=case.customer)
    response = signed_in.post(action_url("message", case), {"body": "Hello?"})
    assert response.status_code == 409
    assert "This case is closed" in response.content.decode()
    assert not Message.objects.filter(case=case, body="Hello?").exists()


def test_same_form_sent_twice_acts_once(signed_in, company):
    """The same rendered form submitted twice (double click, resend) asks the customer only once."""
    case = open_case(company)
    token = re.search(
        r'action="{}".*?name="submission_token" value="([0-9a-f]+)"'.format(
            re.escape(action_url("request-info", case))
        ),
        signed_in.get(case_url(case)).content.decode(),
        re.S,
    ).group(1)
    for _ in range(2):
        response = signed_in.post(action_url("request-info", case), {"message": "Photo?", "submission_token": token})
        assert response.status_code == 302
    case.refresh_from_db()
    assert case.info_requests_count == 1
    assert Message.objects.filter(case=case, body="Photo?").count() == 1


@pytest.mark.parametrize(
    "name", ["message", "request-info", "accept", "deny", "appeal", "appeal-waive", "refund-in-full"]
)
def test_action_by_get_is_405(signed_in, company, name):
    """State changes answer only to POST: a GET on an action URL is a 405 and changes nothing."""
    case = open_case(company)
    response = signed_in.get(action_url(name, case))
    assert response.status_code == 405
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_action_without_csrf_token_is_refused(company, merchant):
    """A POST without the CSRF token (a forged cross-site form) is refused with 403."""
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(merchant)
    case = open_case(company)
    response = csrf_client.post(action_url("accept", case), {"confirm": "on"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
