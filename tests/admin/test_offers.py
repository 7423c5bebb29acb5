"""Reviewers see a case's partial refund offers and the customer's answers on its admin page."""

import pytest
from django.urls import reverse

from cases import services
from tests.factories import case_in_state, reviewer

pytestmark = pytest.mark.django_db


def test_reviewer_reads_a_declined_offer_in_money_with_the_customers_answer(client):
    """An escalated case whose offer was declined: the amount reads as money, with both sides' words."""
    scene = case_in_state("open")
    services.case_offer(
        case=scene.case.pk, actor=scene.merchant, amount_cents=2000, message="Half?", now=scene.later(hours=1)
    )
    services.case_offer_decline(
        case=scene.case.pk, actor=scene.customer, message="I want all of it.", now=scene.later(hours=2)
    )
    services.case_escalate_overdue(case=scene.case.pk, now=scene.later(days=8))
    client.force_login(reviewer())

    page = client.get(reverse("admin:cases_case_change", args=[scene.case.pk])).content.decode()

    assert "Partial refund offers" in page
    assert "<strong>$20.00</strong> · Declined" in page
    assert "Half?" in page and "The customer answered: “I want all of it.”" in page


def test_case_without_offers_says_none_were_made(client):
    scene = case_in_state("escalated")
    client.force_login(reviewer())
    page = client.get(reverse("admin:cases_case_change", args=[scene.case.pk])).content.decode()
    assert "None made." in page
