"""Seed the scratch database of test_worker_killed.py through the real services: a company whose
endpoint points at the test's receiver, and a case opened (its .created event recorded and its
delivery task queued in the database broker). Prints the endpoint's secret for the receiver."""

import json
import sys

from django.utils import timezone

from cases import services
from payments.models import Company, Membership, Payment, Product
from webhooks.services import webhook_endpoint_create


def seed(url: str) -> None:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    company = Company.objects.create(name="Kill Test Co")
    owner = User.objects.create_user(username="owner@kill.test", email="owner@kill.test", password="x-123456789")
    Membership.objects.create(company=company, user=owner, role=Membership.Role.OWNER)
    endpoint = webhook_endpoint_create(
        actor=owner, company_id=company.pk, url=url, events=["resolution_center_case.created"]
    )
    customer = User.objects.create_user(username="buyer@kill.test", email="buyer@kill.test", password="x-123456789")
    product = Product.objects.create(company=company, name="Lens")
    payment = Payment.objects.create(
        company=company,
        customer=customer,
        product=product,
        amount_cents=4200,
        currency="USD",
        method="card",
        paid_at=timezone.now() - timezone.timedelta(days=2),
    )
    services.case_open(customer=customer, payment=payment, reason="not_received", description="Never came")
    sys.stdout.write(json.dumps({"secret": endpoint.secret}) + "\n")
