"""The merchant's webhook pages: owners and admins add endpoints and see the secret once, rotate it,
disable/enable, read the delivery log and press Resend; support members read; strangers get 404."""

import re

import pytest
from django.urls import reverse

from cases import services
from payments.models import Membership
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = re.compile(r"ws_[0-9a-f]{64}")


def signed_in(client, user):
    client.force_login(user)
    return client


def list_url(company):
    return reverse("webhooks:endpoints", kwargs={"company_id": company.pk})


def endpoint_url(endpoint, name="webhooks:endpoint"):
    return reverse(name, kwargs={"company_id": endpoint.company_id, "endpoint_id": endpoint.pk})


def add(client, company, url, events=("resolution_center_case.created", "resolution_center_case.decided")):
    return client.post(
        list_url(company), {"url": url, "events": list(events), "description": "Helpdesk sync"}, follow=True
    )


def test_owner_adds_an_endpoint_and_sees_its_secret_exactly_once(client, shop, receiver):
    owner = merchant_of(shop)
    response = add(signed_in(client, owner), shop, receiver.url)

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200
    assert SECRET.findall(response.content.decode()) == [endpoint.secret]
    assert endpoint.events == ["resolution_center_case.created", "resolution_center_case.decided"]
    again = client.get(endpoint_url(endpoint))
    assert SECRET.findall(again.content.decode()) == []
    assert "Webhooks" in client.get(list_url(shop)).content.decode()


def test_an_endpoint_without_events_is_refused_and_the_typed_url_kept(client, shop):
    owner = merchant_of(shop)
    response = signed_in(client, owner).post(list_url(shop), {"url": "http://127.0.0.1:9/typed-here", "events": []})
    assert response.status_code == 400
    assert "Please choose at least one event" in response.content.decode()
    assert "http://127.0.0.1:9/typed-here" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_support_reads_the_endpoints_but_cannot_add_one(client, shop, receiver, endpoint_for):
    endpoint_for(shop)
    support = merchant_of(shop, role=Membership.Role.SUPPORT)
    signed_in(client, support)
    page = client.get(list_url(shop)).content.decode()
    assert receiver.url in page and "Add endpoint" not in page
    response = client.post(list_url(shop), {"url": receiver.url, "events": ["resolution_center_case.created"]})
    assert response.status_code == 403
    assert WebhookEndpoint.objects.count() == 1
    detail = client.get(endpoint_url(WebhookEndpoint.objects.get())).content.decode()
    assert "Rotate the signing secret" not in detail and "Resend" not in detail


def test_a_stranger_gets_404_and_another_companys_endpoint_is_not_found(client, shop, receiver, endpoint_for):
    endpoint = endpoint_for(shop)
    stranger = UserFactory()
    assert signed_in(client, stranger).get(list_url(shop)).status_code == 404
    other_owner = merchant_of(CompanyFactory())
    client.force_login(other_owner)
    other_company = other_owner.memberships.get().company
    wrong = reverse("webhooks:endpoint", kwargs={"company_id": other_company.pk, "endpoint_id": endpoint.pk})
    assert client.get(wrong).status_code == 404
    rotate = reverse("webhooks:endpoint-rotate", kwargs={"company_id": other_company.pk, "endpoint_id": endpoint.pk})
    assert client.post(rotate).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == ""


def test_rotating_shows_the_new_secret_once(client, shop, receiver, endpoint_for):
    owner = merchant_of(shop)
    endpoint = endpoint_for(shop, owner=owner)
    response = signed_in(client, owner).post(endpoint_url(endpoint, "webhooks:endpoint-rotate"), follow=True)
    endpoint.refresh_from_db()
    assert SECRET.findall(response.content.decode()) == [endpoint.secret]
    assert endpoint.previous_secret and endpoint.previous_secret != endpoint.secret


def test_the_log_shows_each_attempt_and_resend_sends_the_event_again_under_its_id(client, shop, receiver, endpoint_for):
    owner = merchant_of(shop)
    endpoint = endpoint_for(shop, owner=owner)
    receiver.statuses = [500]
    customer = UserFactory()
    services.case_open(
        customer=customer,
        payment=PaymentFactory(company=shop, customer=customer),
        reason="not_received",
        description="x",
    )
    event = WebhookEvent.objects.get()

    page = signed_in(client, owner).get(endpoint_url(endpoint)).content.decode()
    assert "resolution_center_case.created" in page and "HTTP 500" in page and event.public_id in page

    resend = reverse(
        "webhooks:event-resend", kwargs={"company_id": shop.pk, "endpoint_id": endpoint.pk, "event_id": event.pk}
    )
    page = client.post(resend, follow=True).content.decode()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DELIVERED
    assert [d.response_status for d in WebhookDelivery.objects.order_by("attempt")] == [500, 200]
    assert WebhookDelivery.objects.get(attempt=2).resent_by == owner
    assert f"Resend by {owner.email}" in page and "HTTP 200" in page
    assert [r.headers["webhook-id"] for r in receiver.received] == [event.public_id, event.public_id]


def test_a_disabled_endpoint_gets_nothing_until_enabled(client, shop, receiver, endpoint_for):
    owner = merchant_of(shop)
    endpoint = endpoint_for(shop, owner=owner)
    signed_in(client, owner).post(endpoint_url(endpoint, "webhooks:endpoint-enabled"), {"enabled": "0"})
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    customer = UserFactory()
    services.case_open(
        customer=customer,
        payment=PaymentFactory(company=shop, customer=customer),
        reason="not_received",
        description="x",
    )
    assert receiver.received == [] and WebhookEvent.objects.count() == 0
    client.post(endpoint_url(endpoint, "webhooks:endpoint-enabled"), {"enabled": "1"})
    endpoint.refresh_from_db()
    assert endpoint.enabled is True


def test_deleting_an_endpoint_removes_it_and_its_log(client, shop, receiver, endpoint_for):
    owner = merchant_of(shop)
    endpoint = endpoint_for(shop, owner=owner)
    customer = UserFactory()
    services.case_open(
        customer=customer,
        payment=PaymentFactory(company=shop, customer=customer),
        reason="not_received",
        description="x",
    )
    response = signed_in(client, owner).post(endpoint_url(endpoint, "webhooks:endpoint-delete"))
    assert response.status_code == 302
    assert WebhookEndpoint.objects.count() == 0 and WebhookEvent.objects.count() == 0
