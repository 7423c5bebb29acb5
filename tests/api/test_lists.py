"""The list's cursors both ways, its orders and filters, the summary's counts, the events' files, and
idempotent writes across 24 hours."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from tests.api.conftest import key_for
from tests.factories import CompanyFactory, PaymentFactory, case_in_state, merchant_of

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def busy():
    """A company with 5 cases opened an hour apart (the oldest first), the third one denied."""
    company = CompanyFactory()
    merchant = merchant_of(company)
    start = timezone.now() - timedelta(hours=10)
    cases = []
    for index in range(5):
        payment = PaymentFactory(company=company, paid_at=start - timedelta(days=1))
        cases.append(
            services.case_open(
                customer=payment.customer,
                payment=payment,
                reason="unauthorized" if index == 4 else "not_received",
                description="Lost",
                now=start + timedelta(hours=index),
            )
        )
    services.case_deny(case=cases[2], actor=merchant, reason="other", message="No.", now=start + timedelta(hours=6))
    return company, merchant, [f"reso_{c.pk}" for c in cases]


def get(client, secret, url, **params):
    response = client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200, response.content
    return response.json()


def test_pages_forwards_and_backwards(client, busy):
    company, merchant, ids = busy
    secret = key_for(company, merchant)
    url = "/api/v1/resolution_center_cases"

    first = get(client, secret, url, first=2)
    second = get(client, secret, url, first=2, after=first["page_info"]["end_cursor"])
    third = get(client, secret, url, first=2, after=second["page_info"]["end_cursor"])
    back = get(client, secret, url, last=2, before=third["page_info"]["start_cursor"])

    newest_first = list(reversed(ids))
    assert [c["id"] for c in first["data"]] == newest_first[:2]
    assert [c["id"] for c in second["data"]] == newest_first[2:4]
    assert [c["id"] for c in third["data"]] == newest_first[4:]
    assert first["page_info"]["has_previous_page"] is False
    assert first["page_info"]["start_cursor"] is None
    assert third["page_info"] == {
        "has_next_page": False,
        "has_previous_page": True,
        "start_cursor": third["page_info"]["start_cursor"],
        "end_cursor": None,
    }
    assert [c["id"] for c in back["data"]] == newest_first[2:4]


def test_orders_and_filters(client, busy):
    company, merchant, ids = busy
    secret = key_for(company, merchant)
    url = "/api/v1/resolution_center_cases"

    oldest_first = get(client, secret, url, direction="asc")
    by_due = get(client, secret, url, order="response_due_at", direction="asc")
    waiting_on_customer = get(client, secret, url, status="awaiting_customer")
    two_statuses = client.get(
        f"{url}?status=awaiting_customer&status=awaiting_merchant", HTTP_AUTHORIZATION=f"Bearer {secret}"
    ).json()
    fraud = get(client, secret, url, reason="fraudulent")

    assert [c["id"] for c in oldest_first["data"]] == ids
    # The denied case has only its appeal clock, 7 days after the denial: the latest deadline.
    assert by_due["data"][-1]["id"] == ids[2]
    assert [c["id"] for c in waiting_on_customer["data"]] == [ids[2]]
    assert len(two_statuses["data"]) == 5
    assert [c["id"] for c in fraud["data"]] == [ids[4]]


def test_created_filters_take_iso_timestamps(client, busy):
    company, merchant, ids = busy
    secret = key_for(company, merchant)
    cutoff = (timezone.now() - timedelta(hours=7, minutes=30)).isoformat()

    after = get(client, secret, "/api/v1/resolution_center_cases", created_after=cutoff)

    assert [c["id"] for c in after["data"]] == list(reversed(ids[3:]))


def test_summary_counts_every_value(client, busy):
    company, merchant, _ = busy
    secret = key_for(company, merchant)

    summary = get(client, secret, "/api/v1/resolution_center_cases/summary")
    only_status = get(client, secret, "/api/v1/resolution_center_cases/summary", groups="status")

    assert summary["total"] == 5
    assert summary["groups"]["status"] == {
        "awaiting_merchant": 4,
        "awaiting_customer": 1,
        "under_review": 0,
        "closed": 0,
    }
    assert summary["groups"]["reason"]["fraudulent"] == 1
    assert summary["groups"]["reason"]["product_not_received"] == 4
    assert summary["groups"]["outcome"] == {"customer_won": 0, "merchant_won": 0, "withdrawn": 0}
    assert set(only_status["groups"]) == {"status"}


def test_events_carry_their_files(client):
    scene = case_in_state("open")
    services.case_deny(
        case=scene.case,
        actor=scene.merchant,
        reason="delivered_as_described",
        message="Signed for.",
        files=[SimpleUploadedFile("receipt.png", PNG, content_type="image/png")],
    )
    secret = key_for(scene.case.company, scene.merchant)

    events = get(client, secret, f"/api/v1/resolution_center_cases/reso_{scene.case.pk}/events")["data"]

    files = [e for e in events if e["kind"] == "file"]
    assert len(files) == 1
    assert files[0]["attachments"][0]["filename"] == "receipt.png"
    assert files[0]["attachments"][0]["id"].startswith("att_")
    assert files[0]["action"] == "responded"


def test_an_idempotency_key_is_fresh_again_after_24_hours(client):
    scene = case_in_state("open")
    secret = key_for(scene.case.company, scene.merchant)
    url = f"/api/v1/resolution_center_cases/reso_{scene.case.pk}/reply"

    def send(body):
        return client.post(
            url,
            data=json.dumps({"message": body}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )

    assert send("Hello").status_code == 200
    assert send("Hello").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert send("Another day").status_code == 200

    assert scene.case.messages.filter(body="Hello").count() == 1
    assert scene.case.messages.filter(body="Another day").count() == 1
