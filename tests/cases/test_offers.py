"""Issue #12 §1, partial refund offers (DOMAIN.md, "Settling faster"): the merchant offers an amount
above zero and below what is left, with a message; the customer accepts (exactly that amount is
refunded once and the case is final) or declines with a message (the case is open again with 7
fresh days); reply_by passing, or anything else that ends the wait, lapses the offer.

Each allowed move checks what a person would see (state, deadline, money, timeline, offers); each
refusal checks the policy's words and that nothing changed.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from cases import services, sweeps
from cases.models import CaseEvent, CaseOffer, CaseOutcome, CaseStatus, Message
from cases.services import Decision
from payments.models import ActorKind, Membership, Refund
from resolution_center.exceptions import ApplicationError, InvalidTransitionError, NotAllowedError
from tests.factories import MembershipFactory, case_in_state

pytestmark = pytest.mark.django_db
Status = CaseOffer.Status


def actions(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("action", flat=True))


def offer(scene, *, cents=2000, hours=1, message="Would $20 settle it?"):
    return services.case_offer(
        case=scene.case.pk, actor=scene.merchant, amount_cents=cents, message=message, now=scene.later(hours=hours)
    )


# --- making an offer -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["open", "info_requested"])
def test_offer_on_an_answerable_case_waits_on_the_customer_with_a_fresh_reply_by(status):
    """From open or info requested, an offer moves the case to info requested with 7 days to answer,
    counts the offer (not as an info request), and keeps the merchant's message for both sides."""
    scene = case_in_state(status)
    requests_before = scene.case.info_requests_count
    at = scene.later(hours=1)

    made = offer(scene)

    case = scene.refresh()
    assert case.status == CaseStatus.INFO_REQUESTED
    assert (case.offer_pending, case.offers_count, case.info_requests_count) == (True, 1, requests_before)
    assert case.reply_by == case.next_deadline_at == at + timedelta(days=7)
    assert case.respond_by is None
    assert (made.amount_cents, made.currency, made.status, made.made_by) == (
        2000,
        "USD",
        Status.PENDING,
        scene.merchant,
    )
    event = case.events.get(action=CaseEvent.Action.OFFER_MADE)
    assert event.note == "A refund of $20.00, out of the $50.00 left to refund."
    assert Message.objects.filter(case=case, body="Would $20 settle it?", author_kind=ActorKind.MERCHANT).exists()
    assert not Refund.objects.filter(payment=scene.payment).exists()


@pytest.mark.parametrize(
    ("cents", "says"),
    [
        (0, "Please offer an amount above $0.00 and below $50.00."),
        (-5, "Please offer an amount above $0.00 and below $50.00."),
        (5000, "An offer must be less than the $50.00 left to refund"),
        (7000, "An offer must be less than the $50.00 left to refund"),
    ],
)
def test_offer_outside_the_bounds_is_refused_and_changes_nothing(cents, says):
    """Zero, negative, all of what is left, or more: refused with the bounds in money, nothing written."""
    scene = case_in_state("open")
    before = actions(scene.case)

    with pytest.raises(ApplicationError, match=says.replace("$", r"\$").replace(".", r"\.")):
        offer(scene, cents=cents)

    case = scene.refresh()
    assert (case.status, case.offers_count, case.offer_pending) == (CaseStatus.OPEN, 0, False)
    assert actions(case) == before
    assert not CaseOffer.objects.filter(case=case).exists()


def test_offer_just_below_what_is_left_goes_through():
    """One cent below what is left is a partial refund, and allowed."""
    scene = case_in_state("open")
    assert offer(scene, cents=4999).amount_cents == 4999


def test_offer_without_a_message_is_refused():
    scene = case_in_state("open")
    with pytest.raises(ApplicationError, match="Please write a message with your offer."):
        offer(scene, message="   ")
    assert scene.refresh().offers_count == 0


def test_a_third_offer_is_refused_after_two_declined():
    """At most 2 offers a case: after two declines the merchant must accept or deny."""
    scene = case_in_state("open")
    for hour in (1, 3):
        offer(scene, hours=hour)
        services.case_offer_decline(
            case=scene.case.pk, actor=scene.customer, message="No.", now=scene.later(hours=hour + 1)
        )

    with pytest.raises(InvalidTransitionError, match="You have already made 2 offers on this case"):
        offer(scene, hours=5)
    assert scene.refresh().offers_count == 2


def test_a_second_offer_while_one_is_pending_is_refused():
    scene = case_in_state("open")
    offer(scene)
    with pytest.raises(InvalidTransitionError, match="Your offer is waiting for the customer's answer"):
        offer(scene, hours=2, cents=3000)
    assert list(CaseOffer.objects.filter(case=scene.case).values_list("amount_cents", flat=True)) == [2000]


@pytest.mark.parametrize(
    ("status", "delta", "allowed"),
    [("open", timedelta(0), True), ("open", timedelta(seconds=1), False), ("info_requested", timedelta(0), True)],
)
def test_offer_at_the_deadline_goes_through_and_after_it_is_refused(status, delta, allowed):
    """At the running deadline the merchant may still offer; a second later the case is moving on."""
    scene = case_in_state(status)
    deadline = scene.case.next_deadline_at
    call = lambda: services.case_offer(  # noqa: E731
        case=scene.case.pk, actor=scene.merchant, amount_cents=1000, message="Half?", now=deadline + delta
    )
    if allowed:
        call()
        assert scene.refresh().offer_pending
    else:
        with pytest.raises(InvalidTransitionError, match="The deadline to answer passed"):
            call()
        assert not scene.refresh().offer_pending


@pytest.mark.parametrize(
    ("who", "error", "says"),
    [
        ("customer", NotAllowedError, "Only a member of"),
        ("other_merchant", NotAllowedError, "Only a member of"),
        ("reviewer", NotAllowedError, "Only a member of"),
        ("member_customer", NotAllowedError, "You opened this case yourself"),
    ],
)
def test_offer_by_anyone_but_the_cases_merchant_is_refused(who, error, says):
    scene = case_in_state("open")
    if who == "member_customer":
        MembershipFactory(company=scene.case.company, user=scene.customer, role=Membership.Role.SUPPORT)
        who = "customer"
    with pytest.raises(error, match=says):
        services.case_offer(
            case=scene.case.pk, actor=getattr(scene, who), amount_cents=1000, message="Hi", now=scene.later(hours=1)
        )
    assert scene.refresh().offers_count == 0


@pytest.mark.parametrize("status", ["escalated", "accepted", "denied", "appealed", "final"])
def test_offer_in_a_state_that_does_not_wait_on_the_merchant_is_refused(status):
    scene = case_in_state(status)
    with pytest.raises(InvalidTransitionError, match="so you can no longer offer a partial refund"):
        offer(scene)


# --- the customer's answer -------------------------------------------------------------------------


def test_accepting_refunds_exactly_the_offered_amount_once_and_closes_the_case():
    """Accepting closes the case as refunded, decided by the customer; one refund of the offered
    amount is requested (the rest of the payment stays), and the offer is marked accepted."""
    scene = case_in_state("open")
    made = offer(scene, cents=2000)
    at = scene.later(hours=2)

    services.case_offer_accept(case=scene.case.pk, actor=scene.customer, now=at)

    case = scene.refresh()
    assert (case.status, case.outcome, case.offer_pending) == (CaseStatus.FINAL, CaseOutcome.REFUNDED, False)
    assert (case.decided_by_kind, case.decided_by) == (ActorKind.CUSTOMER, scene.customer)
    assert case.closed_at == at and case.next_deadline_at is None
    [refund] = Refund.objects.filter(payment=scene.payment)
    assert (refund.amount_cents, refund.case_id, refund.initiated_by) == (2000, case.pk, scene.merchant)
    assert (scene.payment.refunded_cents, scene.payment.refundable_cents) == (2000, 3000)
    made.refresh_from_db()
    assert (made.status, made.answered_at) == (Status.ACCEPTED, at)
    assert actions(case)[-2:] == [CaseEvent.Action.OFFER_ACCEPTED, CaseEvent.Action.REFUND_REQUESTED]
    assert case.events.get(action=CaseEvent.Action.OFFER_ACCEPTED).note == "The $20.00 refund was accepted."


def test_accepting_twice_refunds_once():
    scene = case_in_state("open")
    offer(scene)
    services.case_offer_accept(case=scene.case.pk, actor=scene.customer, now=scene.later(hours=2))
    with pytest.raises(InvalidTransitionError, match="There is no offer waiting for your answer"):
        services.case_offer_accept(case=scene.case.pk, actor=scene.customer, now=scene.later(hours=3))
    assert Refund.objects.filter(payment=scene.payment).count() == 1


def test_declining_reopens_the_case_with_fresh_days_for_the_merchant_and_keeps_the_message():
    """Declining needs a message: the case is open again, the merchant has 7 days from now, the
    customer's words are a message both see, and the merchant may offer once more."""
    scene = case_in_state("open")
    made = offer(scene)
    at = scene.later(hours=2)

    services.case_offer_decline(case=scene.case.pk, actor=scene.customer, message="I want it all back.", now=at)

    case = scene.refresh()
    assert (case.status, case.offer_pending, case.offers_count) == (CaseStatus.OPEN, False, 1)
    assert case.respond_by == case.next_deadline_at == at + timedelta(days=7)
    assert case.reply_by is None
    made.refresh_from_db()
    assert (made.status, made.answered_at, made.answer_message) == (Status.DECLINED, at, "I want it all back.")
    assert Message.objects.filter(case=case, body="I want it all back.", author_kind=ActorKind.CUSTOMER).exists()
    assert not Refund.objects.filter(payment=scene.payment).exists()
    offer(scene, hours=3, cents=3500)
    assert scene.refresh().offers_count == 2


def test_declining_without_a_message_is_refused():
    scene = case_in_state("open")
    offer(scene)
    with pytest.raises(ApplicationError, match="Please write why you decline the offer."):
        services.case_offer_decline(case=scene.case.pk, actor=scene.customer, message=" ", now=scene.later(hours=2))
    assert scene.refresh().offer_pending


@pytest.mark.parametrize("answer", ["accept", "decline"])
@pytest.mark.parametrize("who", ["merchant", "other_merchant", "reviewer"])
def test_answering_the_offer_is_for_the_customer_only(answer, who):
    scene = case_in_state("open")
    offer(scene)
    with pytest.raises(NotAllowedError, match="Only the customer who opened this case"):
        if answer == "accept":
            services.case_offer_accept(case=scene.case.pk, actor=getattr(scene, who), now=scene.later(hours=2))
        else:
            services.case_offer_decline(
                case=scene.case.pk, actor=getattr(scene, who), message="No", now=scene.later(hours=2)
            )
    assert scene.refresh().offer_pending


@pytest.mark.parametrize(("delta", "allowed"), [(timedelta(0), True), (timedelta(seconds=1), False)])
def test_accepting_at_reply_by_goes_through_and_after_it_is_refused(delta, allowed):
    scene = case_in_state("open")
    offer(scene)
    at = scene.refresh().reply_by + delta
    if allowed:
        services.case_offer_accept(case=scene.case.pk, actor=scene.customer, now=at)
        assert scene.refresh().status == CaseStatus.FINAL
    else:
        with pytest.raises(InvalidTransitionError, match="The deadline to answer the offer passed"):
            services.case_offer_accept(case=scene.case.pk, actor=scene.customer, now=at)
        assert scene.refresh().offer_pending


def test_answering_without_a_pending_offer_is_refused():
    """A plain information request is answered by Reply, not by the offer's buttons."""
    scene = case_in_state("info_requested")
    with pytest.raises(InvalidTransitionError, match="There is no offer waiting for your answer"):
        services.case_offer_accept(case=scene.case.pk, actor=scene.customer, now=scene.later(hours=1))


def test_reply_and_message_are_refused_while_an_offer_waits():
    """Decided in cases/policy.py: the customer answers the offer (the decline message answers any
    question too), so Reply and a plain message are refused with what to do instead."""
    scene = case_in_state("info_requested")
    offer(scene, hours=1)
    for call in (
        lambda: services.case_reply(case=scene.case.pk, actor=scene.customer, message="Hi", now=scene.later(hours=2)),
        lambda: services.case_message_post(
            case=scene.case.pk, actor=scene.customer, body="Hi", now=scene.later(hours=2)
        ),
    ):
        with pytest.raises(
            InvalidTransitionError, match="Answer the offer: accept it, or decline it with your message."
        ):
            call()


# --- lapsing ---------------------------------------------------------------------------------------


def _lapsed_first(case, then: str) -> None:
    tail = actions(case)
    index = tail.index(CaseEvent.Action.OFFER_LAPSED)
    assert tail[index + 1] == then


def test_reply_by_passing_lapses_the_offer_and_denies_the_case_per_case():
    """Unanswered: the offer lapses and the case is denied for lack of a reply (the customer may appeal)."""
    scene = case_in_state("open")
    made = offer(scene)
    after = scene.refresh().reply_by + timedelta(seconds=1)

    assert services.case_deny_unanswered(case=scene.case.pk, now=after) is True

    case = scene.refresh()
    assert (case.status, case.offer_pending, case.decided_by_kind) == (CaseStatus.DENIED, False, ActorKind.SYSTEM)
    made.refresh_from_db()
    assert (made.status, made.answered_at) == (Status.LAPSED, after)
    _lapsed_first(case, CaseEvent.Action.REPLY_EXPIRED)
    assert not Refund.objects.filter(payment=scene.payment).exists()
    services.case_appeal(
        case=case.pk, actor=scene.customer, statement="I never saw it.", now=after + timedelta(hours=1)
    )


def test_the_sweep_lapses_the_offer_like_the_per_case_rule():
    scene = case_in_state("open")
    made = offer(scene)
    plain = case_in_state("info_requested")
    after = max(scene.refresh().reply_by, plain.case.reply_by) + timedelta(seconds=1)

    sweeps.deadlines_sweep(now=after)

    case = scene.refresh()
    assert (case.status, case.offer_pending) == (CaseStatus.DENIED, False)
    made.refresh_from_db()
    assert made.status == Status.LAPSED
    _lapsed_first(case, CaseEvent.Action.REPLY_EXPIRED)
    assert plain.refresh().status == CaseStatus.DENIED
    assert CaseEvent.Action.OFFER_LAPSED not in actions(plain.case)


@pytest.mark.parametrize(
    ("move", "then", "outcome"),
    [
        ("accept", CaseEvent.Action.ACCEPTED, CaseOutcome.REFUNDED),
        ("refund_in_full", CaseEvent.Action.REFUNDED_IN_FULL, CaseOutcome.REFUNDED),
        ("deny", CaseEvent.Action.DENIED, ""),
        ("withdraw", CaseEvent.Action.WITHDRAWN, CaseOutcome.WITHDRAWN),
    ],
)
def test_the_parties_other_moves_stay_allowed_and_lapse_the_offer(move, then, outcome):
    """Merchant Accept / Deny / Refund in full and customer Withdraw stay allowed while an offer
    waits; each lapses it (a timeline row says so) and a refund is of the whole rest, not the offer."""
    scene = case_in_state("open")
    made = offer(scene)
    at = scene.later(hours=2)
    call = {
        "accept": lambda: services.case_accept(case=scene.case.pk, actor=scene.merchant, now=at),
        "refund_in_full": lambda: services.case_refund_in_full(case=scene.case.pk, actor=scene.merchant, now=at),
        "deny": lambda: services.case_deny(
            case=scene.case.pk, actor=scene.merchant, reason="outside_policy", message="No.", now=at
        ),
        "withdraw": lambda: services.case_withdraw(case=scene.case.pk, actor=scene.customer, now=at),
    }[move]

    call()

    case = scene.refresh()
    assert (case.offer_pending, case.outcome) == (False, outcome)
    made.refresh_from_db()
    assert (made.status, made.answered_at) == (Status.LAPSED, at)
    _lapsed_first(case, then)
    refunds = list(Refund.objects.filter(payment=scene.payment).values_list("amount_cents", flat=True))
    assert refunds == ([5000] if outcome == CaseOutcome.REFUNDED else [])


def test_an_offer_after_escalation_is_not_possible_but_refund_in_full_is():
    """Reviewers' states have no offers; a reviewer's decision never meets a pending offer."""
    scene = case_in_state("escalated")
    with pytest.raises(InvalidTransitionError):
        offer(scene)
    services.case_decide(
        case=scene.case.pk, actor=scene.reviewer, decision=Decision.REFUND, note="Refund.", now=scene.later(hours=1)
    )
    assert scene.refresh().status == CaseStatus.ACCEPTED


# --- the pages -------------------------------------------------------------------------------------


def _merchant_url(scene, name="merchant:case"):
    return reverse(name, args=[scene.case.company_id, scene.case.pk])


def test_merchant_page_offers_the_form_and_lists_offers_with_their_status(client):
    scene = case_in_state("open")
    client.force_login(scene.merchant)
    page = client.get(_merchant_url(scene)).content.decode()
    assert "Offer a partial refund" in page
    assert "(2 of 2 offers left)" in page

    response = client.post(
        _merchant_url(scene, "merchant:case-offer"), {"amount": "20.00", "message": "Would $20 settle it?"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "You offered the customer a $20.00 refund" in page
    assert "Waiting for the customer&#x27;s answer to your offer" in page
    assert "Your partial refund offers" in page and "Waiting for the customer" in page
    assert f'action="{_merchant_url(scene, "merchant:case-offer")}"' not in page


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("0", "Please offer an amount above $0.00 and below $50.00."),
        ("50", "An offer must be less than the $50.00 left to refund"),
        ("sixty", "Please enter an amount like 12.50, with at most 2 decimals."),
        ("12.345", "Please enter an amount like 12.50, with at most 2 decimals."),
        ("-3", "Please offer an amount above $0.00 and below $50.00."),
    ],
)
def test_merchant_offer_with_a_bad_amount_shows_the_form_again_with_what_was_typed(client, typed, says):
    scene = case_in_state("open")
    client.force_login(scene.merchant)

    response = client.post(_merchant_url(scene, "merchant:case-offer"), {"amount": typed, "message": "Half of it?"})

    assert response.status_code == 400
    page = response.content.decode()
    assert says.replace("'", "&#x27;") in page
    assert f'value="{typed}"' in page
    assert "Half of it?" in page
    assert 'm-action--offer" open' in page
    assert scene.refresh().offers_count == 0


def test_customer_page_shows_the_offer_at_the_top_and_accepting_says_the_refund_is_on_its_way(client):
    scene = case_in_state("open")
    offer(scene, message="Would $20 settle it?")
    client.force_login(scene.customer)
    url = reverse("cases:case-detail", args=[scene.case.pk])

    page = client.get(url).content.decode()
    heading = f"{scene.case.company.name} offers you a $20.00 refund"
    assert heading in page
    assert page.index(heading) < page.index("status-heading")
    assert "Would $20 settle it?" in page
    assert "Accept the offer" in page and "Decline" in page
    assert reverse("cases:case-reply", args=[scene.case.pk]) not in page

    response = client.post(reverse("cases:case-offer-accept", args=[scene.case.pk]), {})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "the $20.00 refund is on its way" in page
    assert "You accepted a $20.00 refund" in page


def test_customer_decline_without_a_message_keeps_the_page_and_says_what_to_do(client):
    scene = case_in_state("open")
    offer(scene)
    client.force_login(scene.customer)

    response = client.post(reverse("cases:case-offer-decline", args=[scene.case.pk]), {"message": ""})

    assert response.status_code == 400
    assert "Please write why you decline the offer." in response.content.decode()
    assert scene.refresh().offer_pending


def test_customer_decline_after_the_offer_lapsed_keeps_what_was_typed(client):
    """The sweep got there first: the page says why and hands back the message."""
    scene = case_in_state("open")
    offer(scene)
    services.case_deny_unanswered(case=scene.case.pk, now=scene.refresh().reply_by + timedelta(seconds=1))
    client.force_login(scene.customer)

    response = client.post(
        reverse("cases:case-offer-decline", args=[scene.case.pk]), {"message": "I want the whole amount."}
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "There is no offer waiting for your answer" in page
    assert "I want the whole amount." in page


def _refunded_elsewhere(scene, cents):
    from payments.services import refund_request

    refund_request(
        payment=scene.payment,
        amount_cents=cents,
        currency="USD",
        idempotency_key=f"manual-{scene.payment.pk}",
        initiated_by_kind=ActorKind.MERCHANT,
        initiated_by=scene.merchant,
    )


def test_offer_bounds_count_only_what_is_left_of_the_payment():
    """$50 paid, $30 already refunded another way: $20 is left, so $20 is no offer and $19.99 is."""
    scene = case_in_state("open")
    _refunded_elsewhere(scene, 3000)

    with pytest.raises(ApplicationError, match=r"An offer must be less than the \$20\.00 left to refund"):
        offer(scene, cents=2000)
    assert offer(scene, cents=1999).amount_cents == 1999


def test_offer_when_nothing_is_left_to_refund_is_refused():
    scene = case_in_state("open")
    _refunded_elsewhere(scene, 5000)
    with pytest.raises(InvalidTransitionError, match="Nothing is left to refund on this payment."):
        offer(scene)
