"""Webhooks end to end against a real HTTP receiver on 127.0.0.1 that verifies every delivery with
the official SDK's ``unwrap`` and parses it with the SDK's payload models."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from whop_sdk.resolution_center_cases.types import (
    PostResolutionCenterCaseCreatedPayload,
    PostResolutionCenterCaseDecidedPayload,
    PostResolutionCenterCaseUpdatedPayload,
)

from cases import services
from tests.factories import PaymentFactory, UserFactory, case_in_state, merchant_of
from webhooks.delivery import webhook_event_deliver, webhook_events_deliver_due
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOAD_MODEL = {
    EventType.CREATED: PostResolutionCenterCaseCreatedPayload,
    EventType.UPDATED: PostResolutionCenterCaseUpdatedPayload,
    EventType.DECIDED: PostResolutionCenterCaseDecidedPayload,
}


def open_case(company, *, now=None):
    customer = UserFactory()
    payment = PaymentFactory(company=company, customer=customer)
    case = services.case_open(
        customer=customer, payment=payment, reason="not_received", description="Never came", now=now
    )
    return case, customer


def test_opening_a_case_delivers_created_verified_by_unwrap_and_parsed_by_the_sdk(shop, receiver, endpoint_for):
    """The merchant's receiver gets resolution_center_case.created, signed so that the SDK's unwrap
    accepts it, shaped so that the SDK's payload model parses it, the webhook-id being the body's id."""
    endpoint_for(shop)
    case, _ = open_case(shop)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.verify_error == ""
    event = got.event
    payload = PostResolutionCenterCaseCreatedPayload.model_validate(event)
    assert payload.type == "resolution_center_case.created"
    assert payload.api_version == "v1"
    assert payload.data.id == f"reso_{case.pk}"
    assert payload.data.status == "awaiting_merchant"
    assert event["company_id"] == f"biz_{shop.pk}"
    assert got.headers["webhook-id"] == event["id"] and event["id"].startswith("msg_")
    assert "accept" in event["data"]["available_actions"] and "deny" in event["data"]["available_actions"]
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.DELIVERED


def test_500_500_200_is_one_event_three_attempts_all_under_one_id(shop, receiver, endpoint_for):
    """The receiver fails twice, then accepts: one event, three attempts in the log (500, 500, 200)
    with the retry times between them, and every request carried the same event id."""
    endpoint_for(shop)
    receiver.statuses = [500, 500]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        open_case(shop, now=start)
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PENDING
    first_retry = event.next_attempt_at
    assert first_retry == start + timedelta(seconds=30)

    with time_machine.travel(first_retry + timedelta(seconds=1), tick=False):
        assert webhook_events_deliver_due() == 1
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PENDING
    assert event.next_attempt_at == first_retry + timedelta(seconds=1) + timedelta(seconds=60)
    with time_machine.travel(event.next_attempt_at, tick=False):
        assert webhook_events_deliver_due() == 1

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DELIVERED
    attempts = list(WebhookDelivery.objects.filter(event=event).order_by("attempt"))
    assert [(a.attempt, a.response_status, a.success) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert attempts[0].next_retry_at is not None and attempts[2].next_retry_at is None
    assert WebhookEvent.objects.count() == 1
    assert len(receiver.received) == 3
    assert {r.headers["webhook-id"] for r in receiver.received} == {event.public_id}
    assert all(r.verify_error == "" for r in receiver.received)
    assert WebhookEndpoint.objects.get().failing_since is None


def test_a_change_rolled_back_records_and_sends_nothing(shop, receiver, endpoint_for):
    """The event is written in the change's transaction: a rollback leaves no event and no request."""
    endpoint_for(shop)
    with pytest.raises(RuntimeError), transaction.atomic():
        open_case(shop)
        raise RuntimeError("the change fails after the case was opened")
    assert WebhookEvent.objects.count() == 0
    assert receiver.received == []


def test_a_denial_with_its_message_is_one_updated_event_showing_the_denied_case(shop, receiver, endpoint_for):
    """A denial appends several timeline rows in one transaction; the receiver gets one .updated
    with the case as committed (denied, awaiting the customer) and the previous status."""
    scene_case, _ = open_case(shop)
    owner = merchant_of(shop)
    endpoint_for(shop, owner=owner)
    services.case_deny(case=scene_case, actor=owner, reason="delivered_as_described", message="It was delivered.")

    events = [r.event for r in receiver.received]
    assert [e["type"] for e in events] == ["resolution_center_case.updated"]
    payload = PostResolutionCenterCaseUpdatedPayload.model_validate(events[0])
    assert payload.data.status == "awaiting_customer"
    assert events[0]["data"]["state"] == "denied"
    assert payload.previous_attributes == {"state": "open", "status": "awaiting_merchant"}


def test_accepting_sends_updated_and_decided_with_the_outcome(shop, receiver, endpoint_for):
    case, _ = open_case(shop)
    owner = merchant_of(shop)
    endpoint_for(shop, owner=owner)
    services.case_accept(case=case, actor=owner)

    by_type = {r.event["type"]: r.event for r in receiver.received}
    assert set(by_type) == {"resolution_center_case.updated", "resolution_center_case.decided"}
    decided = PostResolutionCenterCaseDecidedPayload.model_validate(by_type["resolution_center_case.decided"])
    assert decided.data.status == "closed"
    assert decided.data.outcome == "customer_won"
    assert decided.data.available_actions == []


def test_an_endpoint_gets_only_the_events_it_chose(shop, receiver, endpoint_for):
    endpoint_for(shop, events=[EventType.DECIDED])
    case, customer = open_case(shop)
    services.case_withdraw(case=case, actor=customer)
    assert [r.event["type"] for r in receiver.received] == ["resolution_center_case.decided"]
    assert receiver.received[0].event["data"]["outcome"] == "withdrawn"


def test_another_companys_changes_never_reach_the_endpoint(shop, receiver, endpoint_for):
    endpoint_for(shop)
    other = case_in_state("open")
    services.case_accept(case=other.case, actor=other.merchant)
    assert receiver.received == []
    assert WebhookEvent.objects.count() == 0


def test_the_deadline_sweep_records_an_updated_event_per_escalated_case(shop, receiver, endpoint_for):
    """The set-based sweep reports its moves too: each escalated case of a subscribed company."""
    from cases.sweeps import deadlines_sweep

    start = timezone.now()
    first, _ = open_case(shop, now=start)
    second, _ = open_case(shop, now=start)
    endpoint_for(shop, events=[EventType.UPDATED])
    later = start + timedelta(days=8)
    with time_machine.travel(later, tick=False):
        deadlines_sweep(now=later)
    updated = [r.event for r in receiver.received if r.event["type"] == "resolution_center_case.updated"]
    assert sorted(e["data"]["id"] for e in updated) == sorted([f"reso_{first.pk}", f"reso_{second.pk}"])
    assert {e["data"]["status"] for e in updated} == {"under_review"}
    for event in updated:
        PostResolutionCenterCaseUpdatedPayload.model_validate(event)


def test_retries_stop_after_3_days_and_the_endpoint_is_disabled_and_its_owners_emailed(shop, receiver, endpoint_for):
    """An endpoint that never answers 2xx: retried with growing gaps for 3 days, the last try on the
    third day; then the event has failed, the endpoint is disabled and the owner gets an email."""
    owner = merchant_of(shop)
    endpoint = endpoint_for(shop, owner=owner)
    receiver.statuses = [503] * 100
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        open_case(shop, now=start)
    event = WebhookEvent.objects.get()
    gaps = []
    while event.status == WebhookEvent.Status.PENDING:
        previous = event.next_attempt_at
        with time_machine.travel(event.next_attempt_at, tick=False):
            webhook_event_deliver(event_id=event.pk)
        event.refresh_from_db()
        if event.next_attempt_at:
            gaps.append(event.next_attempt_at - previous)
    assert event.status == WebhookEvent.Status.FAILED
    assert gaps[:3] == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    assert max(gaps) == timedelta(hours=12)
    last = WebhookDelivery.objects.filter(event=event).order_by("-attempt").first()
    assert last.sent_at == start + timedelta(days=3)
    assert 12 <= event.attempts <= 20
    endpoint.refresh_from_db()
    assert endpoint.enabled is False and endpoint.disabled_reason == "delivery_failures"
    assert [m.to for m in mail.outbox if "disabled" in m.subject] == [[owner.email]]


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(shop, receiver, endpoint_for):
    endpoint_for(shop)
    receiver.statuses = [302]
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    open_case(shop)
    attempt = WebhookDelivery.objects.get()
    assert attempt.response_status == 302 and attempt.success is False
    assert "Redirects are not followed" in attempt.error
    assert len(receiver.received) == 1


def test_a_slow_receiver_times_out_and_is_retried(shop, receiver, endpoint_for, settings):
    import threading

    settings.WEBHOOKS = {**settings.WEBHOOKS, "TIMEOUT_SECONDS": 0.5}
    endpoint_for(shop)
    receiver.hold = threading.Event()
    try:
        open_case(shop)
    finally:
        receiver.hold.set()
    attempt = WebhookDelivery.objects.get()
    assert attempt.response_status is None and "0.5 seconds" in attempt.error
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PENDING


def test_after_a_rotation_both_the_new_and_the_previous_secret_verify(shop, receiver, endpoint_for):
    from whop_sdk.lib.verify_webhook import unwrap

    from webhooks.services import webhook_endpoint_secret_rotate

    owner = merchant_of(shop)
    endpoint = endpoint_for(shop, owner=owner)
    old = endpoint.secret
    rotated = webhook_endpoint_secret_rotate(actor=owner, company_id=shop.pk, endpoint_id=endpoint.pk)
    assert rotated.secret.startswith("ws_") and rotated.secret != old
    receiver.secret = rotated.secret
    open_case(shop)
    got = receiver.received[0]
    assert got.verify_error == ""
    assert unwrap(got.body, headers=got.headers, key=old)["id"] == got.event["id"]


def test_a_message_only_reviewers_see_sends_nothing(shop, receiver, endpoint_for):
    scene = case_in_state("escalated")
    endpoint_for(scene.case.company)
    from cases.models import CaseEvent
    from cases.services.base import event_append

    with transaction.atomic():
        event_append(
            case=scene.case,
            actor_kind="reviewer",
            actor=scene.reviewer,
            action=CaseEvent.Action.MESSAGE,
            now=timezone.now(),
            visibility="reviewers",
        )
    assert receiver.received == []
    assert WebhookEvent.objects.count() == 0


def test_the_local_receiver_command_verifies_and_prints_what_it_gets(shop):
    """`manage.py webhook_receiver` (for trying webhooks by hand) accepts a genuine delivery."""
    import socket
    import threading
    import time
    from io import StringIO

    from django.core.management import call_command

    from webhooks.management.commands import webhook_receiver

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    owner = merchant_of(shop)
    endpoint = webhook_endpoint_create_for(shop, owner, f"http://127.0.0.1:{port}/")
    out = StringIO()
    servers = []
    original = webhook_receiver.HTTPServer

    def keep(*args, **kwargs):
        server = original(*args, **kwargs)
        servers.append(server)
        return server

    webhook_receiver.HTTPServer = keep
    try:
        thread = threading.Thread(
            target=call_command,
            args=("webhook_receiver", "--port", str(port), "--secret", endpoint.secret),
            kwargs={"stdout": out},
            daemon=True,
        )
        thread.start()
        for _ in range(500):
            if servers:
                break
            time.sleep(0.01)
        case, _ = open_case(shop)
        servers[0].shutdown()
        thread.join(10)
    finally:
        webhook_receiver.HTTPServer = original
    assert "resolution_center_case.created" in out.getvalue() and f"reso_{case.pk}" in out.getvalue()
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.DELIVERED


def webhook_endpoint_create_for(company, owner, url):
    from webhooks.services import webhook_endpoint_create

    return webhook_endpoint_create(actor=owner, company_id=company.pk, url=url, events=list(EventType.values))


def test_a_partial_offer_is_updated_with_the_pending_offer_and_its_acceptance_is_decided(shop, receiver, endpoint_for):
    """Offers change the case too: the offer is an .updated whose data carries the pending offer, the
    customer's acceptance settles the case (.updated and .decided, the customer having won), and the
    refund going through after the commit is one more .updated showing the money refunded."""
    from cases.services.offers import case_offer, case_offer_accept

    case, customer = open_case(shop)
    owner = merchant_of(shop)
    endpoint_for(shop, owner=owner)
    case_offer(case=case, actor=owner, amount_cents=2000, message="Half back?")
    offered = receiver.received[-1].event
    assert offered["type"] == "resolution_center_case.updated"
    assert offered["data"]["pending_offer"]["amount_cents"] == 2000
    assert offered["data"]["status"] == "awaiting_customer"

    case_offer_accept(case=case, actor=customer)
    types = [r.event["type"] for r in receiver.received[1:]]
    assert sorted(types[:2]) == ["resolution_center_case.decided", "resolution_center_case.updated"]
    assert types[2:] == ["resolution_center_case.updated"]
    assert receiver.received[-1].event["data"]["refunded_cents"] == 2000
    decided = next(r.event for r in receiver.received if r.event["type"] == "resolution_center_case.decided")
    assert PostResolutionCenterCaseDecidedPayload.model_validate(decided).data.outcome == "customer_won"
