"""Reviewers decide through the admin's own endpoints, which call the same services as the web;
money moves as DOMAIN.md says, exactly once; everybody else is refused and nothing changes."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from cases import services
from cases.models import Case, CaseEvent, CaseStatus, Message, Visibility
from cases.selectors import case_timeline
from payments.models import ActorKind, BalanceCredit, Payment, Refund
from tests.admin.conftest import appealed_case, case_url, escalated_case, open_case, snapshot, staff_outside_reviewers
from tests.factories import merchant_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(client, reviewer_user):
    client.force_login(reviewer_user)
    return client


def decide(client, case, decision, note="Decided on the evidence.", action="decide"):
    return client.post(case_url(case, action), {"decision-decision": decision, "decision-note": note})


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_decide_refund_on_escalated_case_accepts_without_moving_money_until_final(reviewer_client, reviewer_user):
    """A reviewer's refund on an escalated case moves it to accepted with the merchant's appeal
    window ending exactly APPEAL_DAYS (7) days after the decision; no money moves until the
    decision is final, and then exactly one refund is made."""
    case = escalated_case(amount_cents=4200)
    decided_at = timezone.now().replace(microsecond=0)

    with time_machine.travel(decided_at, tick=False):
        response = decide(reviewer_client, case, "refund", note="The seller never shipped.")

    assert response.status_code == 302
    assert response["Location"] == case_url(case, "change")
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.decided_by == reviewer_user
    assert settings.RESOLUTION["APPEAL_DAYS"] == 7
    assert case.appeal_by == case.next_deadline_at == decided_at + timedelta(days=7)
    assert not Refund.objects.filter(payment_id=case.payment_id).exists()
    assert not BalanceCredit.objects.exists()
    assert any("refund decided" in text for text in flash(response))

    assert services.case_finalize_expired(case=case, now=case.appeal_by + timedelta(minutes=1))
    assert services.case_finalize_expired(case=case, now=case.appeal_by + timedelta(minutes=2)) is False
    payment = Payment.objects.get(pk=case.payment_id)
    assert list(Refund.objects.filter(payment=payment).values_list("amount_cents", flat=True)) == [4200]
    assert payment.refunded_cents == 4200


def test_decide_credit_on_escalated_case_credits_balance_at_once_and_closes(reviewer_client):
    """A credit costs the merchant nothing: one balance credit now, no refund, the case final."""
    case = escalated_case(amount_cents=3100)

    response = decide(reviewer_client, case, "credit")

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, "credited")
    credits = BalanceCredit.objects.filter(case=case)
    assert [(c.amount_cents, c.customer_id) for c in credits] == [(3100, case.customer_id)]
    assert not Refund.objects.filter(payment_id=case.payment_id).exists()
    assert Payment.objects.get(pk=case.payment_id).refunded_cents == 0


def test_decide_merchant_wins_on_escalated_case_denies_with_customer_appeal_window(reviewer_client):
    """Merchant wins: the case is denied, the customer may appeal until exactly APPEAL_DAYS (7)
    days after the decision, no money moves."""
    case = escalated_case()
    decided_at = timezone.now().replace(microsecond=0)

    with time_machine.travel(decided_at, tick=False):
        response = decide(reviewer_client, case, "merchant_wins")

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DENIED
    assert settings.RESOLUTION["APPEAL_DAYS"] == 7
    assert case.appeal_by == case.next_deadline_at == decided_at + timedelta(days=7)
    assert not Refund.objects.exists()
    assert not BalanceCredit.objects.exists()


@pytest.mark.parametrize(
    ("decision", "outcome", "refunds", "credits"),
    [("refund", "refunded", 1, 0), ("credit", "credited", 0, 1), ("merchant_wins", "denied", 0, 0)],
)
def test_decide_appeal_is_final_and_moves_money_at_once(reviewer_client, decision, outcome, refunds, credits):
    """On an appealed case the reviewer's decision is final: a refund row or a balance credit at once,
    for the whole amount, and nothing for merchant wins."""
    case = appealed_case(amount_cents=7700)

    response = decide(reviewer_client, case, decision, action="decide-appeal")

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, outcome)
    assert Refund.objects.filter(payment_id=case.payment_id).count() == refunds
    assert BalanceCredit.objects.filter(case=case).count() == credits
    assert Payment.objects.get(pk=case.payment_id).refunded_cents == 7700 * refunds
    assert any("final decision recorded" in text for text in flash(response))


def test_decide_appeal_posted_twice_moves_money_once(reviewer_client):
    """A second submission (double click, back button) is refused with 409; still one refund."""
    case = appealed_case(amount_cents=7700)

    assert decide(reviewer_client, case, "refund", action="decide-appeal").status_code == 302
    second = decide(reviewer_client, case, "refund", action="decide-appeal")

    assert second.status_code == 409
    assert "is closed" in second.content.decode()
    assert Refund.objects.filter(payment_id=case.payment_id).count() == 1
    assert Payment.objects.get(pk=case.payment_id).refunded_cents == 7700


def test_decide_credit_posted_twice_credits_once(reviewer_client):
    """Crediting twice is refused the second time; exactly one credit row exists."""
    case = escalated_case()

    decide(reviewer_client, case, "credit")
    second = decide(reviewer_client, case, "credit")

    assert second.status_code == 409
    assert BalanceCredit.objects.filter(case=case).count() == 1


def test_decision_shows_in_both_parties_timelines(reviewer_client):
    """The reviewer's note reaches the customer's and the merchant's timelines."""
    case = escalated_case()

    decide(reviewer_client, case, "merchant_wins", note="The tracking shows delivery.")

    for viewer in (ActorKind.CUSTOMER, ActorKind.MERCHANT):
        notes = [e.note for e in case_timeline(case=case, viewer=viewer) if e.action == CaseEvent.Action.DECIDED]
        assert notes == ["The tracking shows delivery."]


def test_decide_on_appealed_case_through_escalated_endpoint_is_refused_with_409(reviewer_client):
    """The escalated-case form cannot decide an appeal (and so cannot skip its finality by accident)."""
    case = appealed_case()
    before = snapshot(case)

    response = decide(reviewer_client, case, "refund", action="decide")

    assert response.status_code == 409
    assert "appealed" in response.content.decode()
    assert snapshot(case) == before


def test_decide_appeal_endpoint_on_escalated_case_is_refused_with_409(reviewer_client):
    """The final-decision form refuses a case that has not been appealed."""
    case = escalated_case()
    before = snapshot(case)

    response = decide(reviewer_client, case, "credit", action="decide-appeal")

    assert response.status_code == 409
    assert snapshot(case) == before


def test_decide_without_note_is_refused_with_400_and_the_reason(reviewer_client):
    """The note to the parties is required: 400, the reason on the case page, the choice kept, nothing saved."""
    case = escalated_case()
    before = snapshot(case)

    response = decide(reviewer_client, case, "credit", note="   ")

    assert response.status_code == 400
    page = response.content.decode()
    assert "Please write a note to the parties explaining the decision." in page
    assert re.search(r'<input[^>]*value="credit"[^>]*checked', page), "the reviewer's choice is kept"
    assert snapshot(case) == before


def test_decide_with_unknown_decision_is_refused_with_400(reviewer_client):
    """A forged decision value never reaches the service."""
    case = escalated_case()
    before = snapshot(case)

    response = decide(reviewer_client, case, "refund_double")

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert snapshot(case) == before


def test_decide_by_get_is_not_allowed(reviewer_client):
    """Decisions are POST only; a GET (a prefetch, a pasted link) changes nothing."""
    case = escalated_case()

    response = reviewer_client.get(case_url(case, "decide"), {"decision-decision": "credit", "decision-note": "x"})

    assert response.status_code == 405
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ESCALATED


def test_decide_without_csrf_token_is_refused(reviewer_user):
    """The endpoints are CSRF-protected like every admin form."""
    case = escalated_case()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)
    before = snapshot(case)

    response = decide(client, case, "credit")

    assert response.status_code == 403
    assert snapshot(case) == before


def test_decide_on_missing_case_is_404(reviewer_client):
    """An unknown case id answers 404, not an error page."""
    response = reviewer_client.post("/admin/cases/case/999999/decide/", {"decision-decision": "credit"})

    assert response.status_code == 404


def test_request_info_from_customer_reaches_only_the_customer(reviewer_client):
    """Asking the customer posts a question only the customer (and reviewers) see; the case stays escalated."""
    case = escalated_case()

    response = reviewer_client.post(
        case_url(case, "request-info"), {"info-party": "customer", "info-message": "Do you have the tracking number?"}
    )

    assert response.status_code == 302
    message = Message.objects.get(case=case, author_kind=ActorKind.REVIEWER)
    assert (message.body, message.visibility) == ("Do you have the tracking number?", Visibility.CUSTOMER)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ESCALATED
    merchant_notes = [e.note for e in case_timeline(case=case, viewer=ActorKind.MERCHANT)]
    assert "Do you have the tracking number?" not in merchant_notes
    assert any("sent to the customer" in text for text in flash(response))


def test_request_info_from_merchant_on_appealed_case(reviewer_client):
    """Reviewers may ask the merchant on an appeal too; only the merchant sees it."""
    case = appealed_case()

    response = reviewer_client.post(
        case_url(case, "request-info"), {"info-party": "merchant", "info-message": "Send the delivery photo."}
    )

    assert response.status_code == 302
    assert Message.objects.get(case=case, author_kind=ActorKind.REVIEWER).visibility == Visibility.MERCHANT


def test_request_info_without_party_is_refused_with_400(reviewer_client):
    """Which party to ask is required."""
    case = escalated_case()
    before = snapshot(case)

    response = reviewer_client.post(case_url(case, "request-info"), {"info-message": "Anything?"})

    assert response.status_code == 400
    assert "Please choose whether to ask the customer or the merchant." in response.content.decode()
    assert snapshot(case) == before


def test_request_info_on_open_case_is_refused_with_409(reviewer_client):
    """Reviewers ask only on cases with them; the service's reason is shown."""
    case = open_case()
    before = snapshot(case)

    response = reviewer_client.post(case_url(case, "request-info"), {"info-party": "customer", "info-message": "Hi"})

    assert response.status_code == 409
    assert "only on escalated or appealed cases" in response.content.decode()
    assert snapshot(case) == before


def test_post_message_to_everyone_appears_for_both_parties(reviewer_client):
    """A reviewer's message to everyone is in both timelines."""
    case = escalated_case()

    response = reviewer_client.post(
        case_url(case, "message"), {"message-body": "We are looking at this.", "message-visibility": "everyone"}
    )

    assert response.status_code == 302
    for viewer in (ActorKind.CUSTOMER, ActorKind.MERCHANT):
        assert "We are looking at this." in [e.note for e in case_timeline(case=case, viewer=viewer)]


def test_post_reviewers_only_note_is_hidden_from_both_parties(reviewer_client):
    """An internal note is kept for reviewers only."""
    case = escalated_case()

    reviewer_client.post(case_url(case, "message"), {"message-body": "Internal.", "message-visibility": "reviewers"})

    for viewer in (ActorKind.CUSTOMER, ActorKind.MERCHANT):
        assert "Internal." not in [e.note for e in case_timeline(case=case, viewer=viewer)]
    assert Message.objects.get(case=case, author_kind=ActorKind.REVIEWER).visibility == Visibility.REVIEWERS


def test_post_message_on_closed_case_is_refused_with_409(reviewer_client):
    """A final case takes no more messages."""
    case = escalated_case()
    decide(reviewer_client, case, "credit")
    before = snapshot(case)

    response = reviewer_client.post(
        case_url(case, "message"), {"message-body": "Hello", "message-visibility": "everyone"}
    )

    assert response.status_code == 409
    assert "This case is closed" in response.content.decode()
    assert snapshot(case) == before


# --- everybody else is refused ------------------------------------------------------------------

ACTIONS = [
    ("decide", {"decision-decision": "refund", "decision-note": "Refund it."}),
    ("decide-appeal", {"decision-decision": "refund", "decision-note": "Refund it."}),
    ("request-info", {"info-party": "customer", "info-message": "Why?"}),
    ("message", {"message-body": "Hello", "message-visibility": "everyone"}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS, ids=[a for a, _ in ACTIONS])
@pytest.mark.parametrize("state", ["escalated", "appealed"])
def test_staff_outside_reviewers_is_refused_every_action_with_403(client, action, data, state):
    """Staff who may view cases but is not in Reviewers gets 403 and the case stays as it was."""
    case = escalated_case() if state == "escalated" else appealed_case()
    client.force_login(staff_outside_reviewers())
    before = snapshot(case)

    response = client.post(case_url(case, action), data)

    assert response.status_code == 403
    assert snapshot(case) == before


@pytest.mark.parametrize(("action", "data"), ACTIONS, ids=[a for a, _ in ACTIONS])
@pytest.mark.parametrize("party", ["merchant", "customer"])
def test_merchant_and_customer_are_refused_every_action(client, action, data, party):
    """The case's own parties never reach the admin: redirected to the admin login, nothing changes."""
    case = escalated_case() if action != "decide-appeal" else appealed_case()
    user = merchant_of(case.company) if party == "merchant" else case.customer
    client.force_login(user)
    before = snapshot(case)

    response = client.post(case_url(case, action), data)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert snapshot(case) == before


def test_inactive_reviewer_decision_redirected_to_login_nothing_changes(client, reviewer_user):
    """A deactivated reviewer can no longer decide: their session no longer signs them in, so the
    decision is sent to the admin login and the case, its timeline and the money stay as they were."""
    case = escalated_case()
    reviewer_user.is_active = False
    reviewer_user.save()
    client.force_login(reviewer_user)
    before = snapshot(case)

    response = decide(client, case, "credit")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert snapshot(case) == before


@pytest.mark.parametrize(("action", "make_case"), [("decide", escalated_case), ("decide-appeal", appealed_case)])
def test_decision_in_admin_notifies_both_parties(reviewer_client, action, make_case):
    """Deciding in admin records a "decided" notification for the customer and for the merchant's team."""
    from notifications.models import Notification, NotificationKind

    case = make_case()
    merchant = merchant_of(case.company)

    decide(reviewer_client, case, "merchant_wins", action=action)

    notified = set(
        Notification.objects.filter(case=case, kind=NotificationKind.DECIDED).values_list("recipient_id", "party")
    )
    assert (case.customer_id, "customer") in notified
    assert (merchant.pk, "merchant") in notified
