"""Whop's official client manages webhook endpoints against our live server through its
``webhooks`` resource (create, list, retrieve, update, list_deliveries, replay_delivery, delete);
its models parse every answer. Read keys read, write keys write, tokens and strangers are refused."""

import pytest
from whop_sdk.core.api_error import ApiError
from whop_sdk.errors import ForbiddenError, NotFoundError

from cases import services
from tests.api.conftest import key_for, sdk_for, token_for
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_write_key_manages_an_endpoint_and_reads_its_deliveries_with_the_sdk(live_server, shop, receiver):
    owner = merchant_of(shop)
    client = sdk_for(live_server.url, key_for(shop, owner))

    made = client.webhooks.create(url=receiver.url, events=["resolution_center_case.created"])
    assert made.id.startswith("hook_") and made.webhook_secret.startswith("ws_")
    assert made.resource_id == f"biz_{shop.pk}" and made.enabled is True
    receiver.secret = made.webhook_secret

    assert [w.id for w in client.webhooks.list()] == [made.id]
    again = client.webhooks.retrieve(made.id)
    assert again.webhook_secret is None and again.events == ["resolution_center_case.created"]

    receiver.statuses = [500]
    customer = UserFactory()
    services.case_open(
        customer=customer,
        payment=PaymentFactory(company=shop, customer=customer),
        reason="not_received",
        description="x",
    )
    deliveries = list(client.webhooks.list_deliveries(made.id))
    assert [(d.response_code, d.success, d.event) for d in deliveries] == [
        (500.0, False, "resolution_center_case.created")
    ]
    assert deliveries[0].request_body["data"]["buyer"]["user_id"] == f"user_{customer.pk}"

    replayed = client.webhooks.replay_delivery(made.id, deliveries[0].id)
    assert (replayed.status, replayed.success) == (200, True)
    deliveries = list(client.webhooks.list_deliveries(made.id))
    assert [d.success for d in deliveries] == [True, False]
    assert {r.headers["webhook-id"] for r in receiver.received} == {deliveries[0].request_body["id"]}

    updated = client.webhooks.update(made.id, enabled=False, events=["resolution_center_case.decided"])
    assert updated.enabled is False and updated.events == ["resolution_center_case.decided"]

    deleted = client.webhooks.delete(made.id)
    assert deleted.deleted is True
    assert WebhookEndpoint.objects.count() == 0


def test_read_keys_tokens_and_other_companies_are_refused(live_server, shop, receiver, endpoint_for):
    owner = merchant_of(shop)
    endpoint = endpoint_for(shop, owner=owner)
    reader = sdk_for(live_server.url, key_for(shop, owner, scope="read"))
    assert reader.webhooks.retrieve(endpoint.public_id).url == receiver.url
    with pytest.raises(ForbiddenError):
        reader.webhooks.create(url=receiver.url)
    with pytest.raises(ForbiddenError):
        reader.webhooks.delete(endpoint.public_id)

    customer = UserFactory()
    with pytest.raises(ForbiddenError):
        list(sdk_for(live_server.url, token_for(customer)).webhooks.list())

    other = CompanyFactory()
    stranger = sdk_for(live_server.url, key_for(other, merchant_of(other)))
    with pytest.raises(NotFoundError):
        stranger.webhooks.retrieve(endpoint.public_id)
    assert list(stranger.webhooks.list()) == []

    writer = sdk_for(live_server.url, key_for(shop, owner))
    with pytest.raises(ApiError) as refused:
        writer.webhooks.create(url="ftp://example.com/x")
    assert refused.value.status_code == 422
    assert "https://" in refused.value.body["error"]["message"]
