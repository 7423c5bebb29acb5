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
