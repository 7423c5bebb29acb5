"""The one mapping: every state a case can be in reads as Whop's ResolutionCenterCase (the SDK's own
pydantic model parses it) with our precise state alongside."""

import pytest
from whop_sdk.types.resolution_center_case import ResolutionCenterCase
from whop_sdk.types.resolution_event import ResolutionEvent

from api.representation import case_representation, event_representation, public_id_parse
from cases.policy import case_actions_for
from tests.factories import case_in_state

SCENES = [
    ("open", "", "awaiting_merchant", None),
    ("info_requested", "", "awaiting_customer", None),
    ("escalated", "", "under_review", None),
    ("accepted", "", "awaiting_merchant", None),
    ("denied", "", "awaiting_customer", None),
    ("appealed", "", "under_review", None),
    ("final", "accepted", "closed", "customer_won"),
    ("final", "credited", "closed", "customer_won"),
    ("final", "withdrawn", "closed", "withdrawn"),
    ("final", "denied", "closed", "merchant_won"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "via", "status", "outcome"), SCENES)
def test_every_state_parses_as_whops_case(state, via, status, outcome):
    scene = case_in_state(state, via=via)
    case = scene.case
    allowed = case_actions_for(case=case, user=scene.merchant, now=scene.later(minutes=1)).allowed

    data = case_representation(case, viewer_party="merchant", available_actions=allowed)
    parsed = ResolutionCenterCase.model_validate(data)

    assert parsed.id == f"reso_{case.pk}"
    assert parsed.status == status
    assert parsed.outcome == outcome
    assert parsed.reason == "product_not_received"
    assert parsed.amount == 50.0
    assert data["amount_cents"] == 5000
    assert data["state"] == state
    assert parsed.payment.id == f"pay_{scene.payment.pk}"
    assert parsed.buyer.user_id == f"user_{scene.customer.pk}"
    assert parsed.account.id == f"biz_{case.company_id}"
    assert public_id_parse("reso_", parsed.id) == case.pk


@pytest.mark.django_db
def test_merchant_actions_use_the_apis_verbs():
    scene = case_in_state("open")
    allowed = case_actions_for(case=scene.case, user=scene.merchant, now=scene.later(minutes=1)).allowed

    data = case_representation(scene.case, viewer_party="merchant", available_actions=allowed)

    assert set(data["available_actions"]) == {"accept", "deny", "request_info", "reply", "refund", "offer"}


@pytest.mark.django_db
def test_timeline_rows_parse_as_whops_events():
    scene = case_in_state("denied")
    events = list(scene.case.events.all())

    parsed = [ResolutionEvent.model_validate(event_representation(e)) for e in events]

    actions = [p.action for p in parsed]
    assert actions[0] == "created"
    assert "denied" in actions
    assert all(p.id.startswith("revt_") for p in parsed)


def test_ids_of_another_kind_are_not_read():
    assert public_id_parse("reso_", "pay_12") is None
    assert public_id_parse("reso_", "reso_１２") is None
    assert public_id_parse("reso_", "reso_") is None
    assert public_id_parse("reso_", "reso_12") == 12
