"""Whop's official client (whop-sdk 2.6.0) drives our live server through every call, as the merchant
(a company key) and as the customer (a personal token). Its pydantic models parse every answer, so a
missing or mistyped field fails here."""

import pytest
from whop_sdk.core.request_options import RequestOptions
from whop_sdk.errors import ConflictError, ForbiddenError, NotFoundError, UnauthorizedError

from api.credentials import api_key_revoke
from cases import services
from tests.api.conftest import key_for, sdk_for, token_for
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, case_in_state, merchant_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_merchant_lists_reads_and_answers_cases(live_server):
    scene = case_in_state("open")
    other = case_in_state("open")  # another company's case: never seen
    client = sdk_for(live_server.url, key_for(scene.case.company, scene.merchant))
    reso = f"reso_{scene.case.pk}"

    listed = list(client.resolution_center_cases.list())
    assert [c.id for c in listed] == [reso]
    assert listed[0].status == "awaiting_merchant"
    assert set(listed[0].available_actions) >= {"accept", "deny", "request_info", "reply"}

    case = client.resolution_center_cases.retrieve(reso)
    assert case.buyer.user_id == f"user_{scene.customer.pk}"
    with pytest.raises(NotFoundError):
        client.resolution_center_cases.retrieve(f"reso_{other.case.pk}")

    case = client.resolution_center_cases.request_info(reso, message="Which address did you use?")
    assert case.status == "awaiting_customer"
    assert case.information_requests_left == 2

    case = client.resolution_center_cases.reply(reso, message="We are checking with the courier.")
    assert case.status == "awaiting_customer"

    case = client.resolution_center_cases.deny(reso, message="It was delivered on the 3rd.")
    assert case.status == "awaiting_customer"
    assert case.state == "denied"
    assert set(case.available_actions) == {"reply", "refund"}

    with pytest.raises(ConflictError) as refused:
        client.resolution_center_cases.accept(reso)
    assert refused.value.body["error"]["code"] == "conflict"
    assert "denied" in refused.value.body["error"]["message"]

    events = list(client.resolution_center_cases.events(reso))
    assert [e.action for e in events][:2] == ["created", "requested_more_info"]
    assert "denied" in [e.action for e in events]
    assert all(e.viewable_by_merchant for e in events)

    summary = client.resolution_center_cases.summary()
    assert summary.total == 1
    assert summary.groups.status.awaiting_customer == 1
    assert summary.groups.reason.product_not_received == 1


def test_merchant_accepts_and_refunds(live_server):
    scene = case_in_state("open")
    client = sdk_for(live_server.url, key_for(scene.case.company, scene.merchant))

    case = client.resolution_center_cases.accept(f"reso_{scene.case.pk}", message="Sorry about that.")

    assert case.status == "closed"
    assert case.outcome == "customer_won"
    assert case.refund == "merchant"
    assert case.refunded_cents == 5000


def test_customer_opens_replies_appeals_with_a_token(live_server):
    customer = UserFactory()
    company = CompanyFactory()
    merchant = merchant_of(company)
    payment = PaymentFactory(company=company, customer=customer, amount_cents=2599)
    client = sdk_for(live_server.url, token_for(customer))

    case = client.resolution_center_cases.create(
        receipt_id=f"pay_{payment.pk}", reason="not_as_described", message="The colour is wrong."
    )
    assert case.status == "awaiting_merchant"
    assert case.amount == 25.99
    assert case.reason == "not_as_described"
    assert set(case.available_actions) == {"reply", "withdraw"}
    reso = case.id

    services.case_request_info(case=int(reso[5:]), actor=merchant, message="A photo please?")
    case = client.resolution_center_cases.reply(reso, message="Here is what I see.")
    assert case.status == "awaiting_merchant"

    services.case_deny(case=int(reso[5:]), actor=merchant, reason="delivered_as_described", message="It is blue.")
    case = client.resolution_center_cases.appeal(reso, message="It is green, not blue.")
    assert case.status == "under_review"
    assert case.customer_appealed is True

    assert [c.id for c in client.resolution_center_cases.list(user_id="me")] == [reso]
    assert list(client.resolution_center_cases.list(account_id="biz_999999")) == []


def test_customer_withdraws(live_server):
    scene = case_in_state("open")
    client = sdk_for(live_server.url, token_for(scene.customer))

    case = client.resolution_center_cases.withdraw(f"reso_{scene.case.pk}")

    assert case.status == "closed"
    assert case.outcome == "withdrawn"


def test_the_pager_walks_every_page(live_server):
    company = CompanyFactory()
    merchant = merchant_of(company)
    for _ in range(7):
        payment = PaymentFactory(company=company)
        services.case_open(customer=payment.customer, payment=payment, reason="not_received", description="Lost")
    client = sdk_for(live_server.url, key_for(company, merchant))

    pager = client.resolution_center_cases.list(first=3)
    pages = list(pager.iter_pages())
    ids = [c.id for page in pages for c in page.items]

    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert len(set(ids)) == 7
    oldest_first = [c.id for c in client.resolution_center_cases.list(first=3, direction="asc")]
    assert oldest_first == list(reversed(ids))


def test_idempotency_key_replays_and_refuses_another_body(live_server):
    scene = case_in_state("open")
    secret = key_for(scene.case.company, scene.merchant)
    client = sdk_for(live_server.url, secret)
    reso = f"reso_{scene.case.pk}"
    once = RequestOptions(additional_headers={"Idempotency-Key": "msg-1"})

    first = client.resolution_center_cases.reply(reso, message="Looking into it.", request_options=once)
    again = client.resolution_center_cases.reply(reso, message="Looking into it.", request_options=once)

    assert again.id == first.id
    assert scene.case.messages.filter(body="Looking into it.").count() == 1
    with pytest.raises(Exception) as refused:
        client.resolution_center_cases.reply(reso, message="Something else.", request_options=once)
    assert refused.value.status_code == 422
    assert refused.value.body["error"]["code"] == "idempotency_key_reused"


def test_wrong_keys_get_typed_errors(live_server):
    scene = case_in_state("open")
    company = scene.case.company
    reso = f"reso_{scene.case.pk}"

    with pytest.raises(UnauthorizedError) as no_key:
        sdk_for(live_server.url, "rc_key_nonsense").resolution_center_cases.retrieve(reso)
    assert no_key.value.body["error"]["code"] == "unauthorized"

    read_only = sdk_for(live_server.url, key_for(company, scene.merchant, scope="read"))
    assert read_only.resolution_center_cases.retrieve(reso).available_actions == []
    with pytest.raises(ForbiddenError) as refused:
        read_only.resolution_center_cases.accept(reso)
    assert "read-only" in refused.value.body["error"]["message"]

    from api.models import ApiKey

    secret = key_for(company, scene.merchant, name="Old")
    api_key_revoke(key=ApiKey.objects.get(name="Old"), actor=scene.merchant)
    with pytest.raises(UnauthorizedError):
        sdk_for(live_server.url, secret).resolution_center_cases.list()


def test_merchant_appeals_a_reviewers_refund_and_our_additions_answer_the_same_way(live_server):
    scene = case_in_state("accepted")
    secret = key_for(scene.case.company, scene.merchant)
    client = sdk_for(live_server.url, secret)
    reso = f"reso_{scene.case.pk}"
    assert client.resolution_center_cases.retrieve(reso).status == "awaiting_merchant"

    case = client.resolution_center_cases.appeal(reso, message="It was delivered; here is the tracking.")
    assert case.status == "under_review"
    assert case.customer_appealed is False
    assert case.appeal["appealed_by"] == "merchant"

    # Ours, through the SDK's own HTTP client: refund in full at any stage, parsed by the same model.
    from whop_sdk.types.resolution_center_case import ResolutionCenterCase

    response = client._client_wrapper.httpx_client.request(
        f"resolution_center_cases/{reso}/refund",
        base_url=client._client_wrapper.get_environment().api,
        method="POST",
        json={"message": "Refunding after all."},
    )
    assert response.status_code == 200
    refunded = ResolutionCenterCase.model_validate(response.json())
    assert refunded.status == "closed"
    assert refunded.outcome == "customer_won"


def _ours(client, path: str, body: dict | None = None):
    """One of our additions, sent through the SDK's own HTTP client (its auth and base URL)."""
    from whop_sdk.types.resolution_center_case import ResolutionCenterCase

    wrapper = client._client_wrapper
    response = wrapper.httpx_client.request(
        path, base_url=wrapper.get_environment().api, method="POST", json=body or {}
    )
    assert response.status_code == 200, response.text
    return ResolutionCenterCase.model_validate(response.json())


def test_partial_refund_offer_made_by_key_and_accepted_by_token(live_server):
    scene = case_in_state("open")
    merchant = sdk_for(live_server.url, key_for(scene.case.company, scene.merchant))
    customer = sdk_for(live_server.url, token_for(scene.customer))
    reso = f"reso_{scene.case.pk}"
    assert "offer" in merchant.resolution_center_cases.retrieve(reso).available_actions

    offered = _ours(merchant, f"resolution_center_cases/{reso}/offer", {"amount": 20, "message": "Half back?"})
    assert offered.status == "awaiting_customer"
    assert offered.pending_offer["amount_cents"] == 2000

    seen = customer.resolution_center_cases.retrieve(reso)
    assert {"accept_offer", "decline_offer"} <= set(seen.available_actions)
    accepted = _ours(customer, f"resolution_center_cases/{reso}/accept_offer")

    assert accepted.status == "closed"
    assert accepted.outcome == "customer_won"
    assert accepted.refunded_cents == 2000
    assert accepted.pending_offer is None
