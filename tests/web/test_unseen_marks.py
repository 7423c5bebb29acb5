"""Lists mark cases with something the viewer has not seen yet (DOMAIN.md, "Messages reach people"):
the merchant's Resolution Center, the customer's "Your cases" and the reviewers' queue show a "New"
badge (read aloud as "New activity") on a case with a timeline row newer than the viewer's last
visit, from someone other than their side, that they may see; opening the case clears it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CaseReadMark
from notifications.services import message_digests_send_due
from payments.models import Membership
from tests.factories import case_in_state, merchant_of

pytestmark = pytest.mark.django_db

MARK = 'New<span class="visually-hidden"> activity</span>'
ADMIN_MARK = "New<span"


def marked(html: str, *, row_start: str = r'<tr data-case-id="(\d+)"', mark: str = MARK) -> dict[int, bool]:
    """Case number -> whether its row carries the mark."""
    rows = re.split(r"(?=<tr)", html)
    found = {}
    for row in rows:
        match = re.search(row_start, row)
        if match:
            found[int(match.group(1))] = mark in row
    return found


def merchant_list(client, scene, user=None) -> dict[int, bool]:
    client.force_login(user or scene.merchant)
    response = client.get(reverse("merchant:cases", kwargs={"company_id": scene.case.company_id}))
    assert response.status_code == 200
    return marked(response.content.decode())


def merchant_opens(client, scene, user=None):
    client.force_login(user or scene.merchant)
    url = reverse("merchant:case", kwargs={"company_id": scene.case.company_id, "case_id": scene.case.pk})
    assert client.get(url).status_code == 200


def customer_list(client, scene) -> dict[int, bool]:
    client.force_login(scene.customer)
    response = client.get(reverse("cases:case-list"))
    assert response.status_code == 200
    return marked(response.content.decode())


def customer_opens(client, scene):
    client.force_login(scene.customer)
    assert client.get(reverse("cases:case-detail", kwargs={"case_id": scene.case.pk})).status_code == 200


def queue(client, reviewer) -> dict[int, bool]:
    client.force_login(reviewer)
    response = client.get(reverse("admin:cases_case_changelist"))
    assert response.status_code == 200
    return marked(response.content.decode(), row_start=r">Case #(\d+)</a>", mark=ADMIN_MARK)


def reviewer_opens(client, scene):
    client.force_login(scene.reviewer)
    assert client.get(reverse("admin:cases_case_change", args=[scene.case.pk])).status_code == 200


def earlier(**ago):
    """Scenes are built in the past, so that what the test does next is newer than the visits."""
    return timezone.now() - timedelta(**ago)


# --- the merchant's list ---------------------------------------------------------------------------


def test_a_new_case_is_marked_for_the_merchant_until_they_open_it(client):
    scene = case_in_state("open", now=earlier(hours=1))

    before = merchant_list(client, scene)
    merchant_opens(client, scene)
    after = merchant_list(client, scene)

    assert before == {scene.case.pk: True}
    assert after == {scene.case.pk: False}


def test_customer_message_marks_the_case_for_the_merchant_and_opening_clears_it(client):
    scene = case_in_state("open", now=earlier(hours=1))
    merchant_opens(client, scene)

    services.case_message_post(case=scene.case, actor=scene.customer, body="Any news?")

    assert merchant_list(client, scene) == {scene.case.pk: True}
    merchant_opens(client, scene)
    assert merchant_list(client, scene) == {scene.case.pk: False}


def test_each_member_has_their_own_mark(client):
    """One member opening the case does not clear it for a colleague."""
    scene = case_in_state("open", now=earlier(hours=1))
    colleague = merchant_of(scene.case.company, role=Membership.Role.SUPPORT)

    merchant_opens(client, scene)

    assert merchant_list(client, scene) == {scene.case.pk: False}
    assert merchant_list(client, scene, colleague) == {scene.case.pk: True}


def test_the_merchant_sides_own_messages_never_mark_the_case(client):
    """Neither the author nor a colleague sees their side's own message as new."""
    scene = case_in_state("open", now=earlier(hours=1))
    colleague = merchant_of(scene.case.company, role=Membership.Role.SUPPORT)
    merchant_opens(client, scene)
    merchant_opens(client, scene, colleague)

    services.case_message_post(case=scene.case, actor=scene.merchant, body="Shipped.")

    assert merchant_list(client, scene) == {scene.case.pk: False}
    assert merchant_list(client, scene, colleague) == {scene.case.pk: False}


# --- the customer's list ---------------------------------------------------------------------------


def test_the_customers_own_case_is_not_new_to_them_but_the_merchants_answer_is(client):
    scene = case_in_state("open", now=earlier(hours=1))

    assert customer_list(client, scene) == {scene.case.pk: False}

    services.case_request_info(case=scene.case, actor=scene.merchant, message="Tracking number?")

    assert customer_list(client, scene) == {scene.case.pk: True}
    customer_opens(client, scene)
    assert customer_list(client, scene) == {scene.case.pk: False}


def test_a_question_to_the_merchant_only_never_marks_the_customers_case(client):
    """A reviewer's question to the merchant is not the customer's to see: no mark."""
    scene = case_in_state("escalated", now=earlier(days=8))
    customer_opens(client, scene)

    services.case_reviewer_info_request(
        case=scene.case, actor=scene.reviewer, party="merchant", message="Proof of delivery?"
    )

    assert customer_list(client, scene) == {scene.case.pk: False}


def test_the_record_of_an_email_sent_to_the_customer_does_not_mark_the_case(client):
    """Delivery records ("Email sent to the customer") are not activity."""
    scene = case_in_state("open", now=earlier(hours=2))
    services.case_message_post(case=scene.case, actor=scene.merchant, body="Shipped.", now=earlier(hours=1))
    customer_opens(client, scene)

    message_digests_send_due(now=timezone.now() + timedelta(minutes=5))

    assert scene.case.events.filter(action="notification", visibility="customer").exists()
    assert customer_list(client, scene) == {scene.case.pk: False}


# --- the reviewers' queue ---------------------------------------------------------------------------


def test_queue_marks_a_case_with_a_partys_message_after_the_reviewer_looked_and_opening_clears_it(client):
    scene = case_in_state("escalated", now=earlier(days=8))

    assert queue(client, scene.reviewer) == {scene.case.pk: True}  # never opened
    reviewer_opens(client, scene)
    assert queue(client, scene.reviewer) == {scene.case.pk: False}

    services.case_message_post(case=scene.case, actor=scene.customer, body="Photo attached.")

    assert queue(client, scene.reviewer) == {scene.case.pk: True}
    reviewer_opens(client, scene)
    assert queue(client, scene.reviewer) == {scene.case.pk: False}


def test_a_reviewers_own_message_does_not_mark_the_case_for_them(client):
    scene = case_in_state("escalated", now=earlier(days=8))
    reviewer_opens(client, scene)

    services.case_reviewer_info_request(case=scene.case, actor=scene.reviewer, party="customer", message="Photo?")

    assert queue(client, scene.reviewer) == {scene.case.pk: False}


# --- the mark itself ----------------------------------------------------------------------------------


def test_opening_writes_one_mark_per_person_and_moves_it_forward(client):
    scene = case_in_state("open", now=earlier(hours=1))

    merchant_opens(client, scene)
    first = CaseReadMark.objects.get(case=scene.case, user=scene.merchant).seen_at
    services.case_message_post(case=scene.case, actor=scene.customer, body="Hello?")
    merchant_opens(client, scene)

    [mark] = CaseReadMark.objects.filter(case=scene.case, user=scene.merchant)
    assert mark.seen_at > first
