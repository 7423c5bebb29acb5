"""Seed the scratch database of test_qcluster_crash.py through the real services: cases already
past their deadlines, and the notifications (and queued delivery tasks) their history produced."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from cases import services
from cases.reviewers import reviewers_group_ensure
from payments.models import Company, Membership, Payment, Product

OPEN, INFO_REQUESTED, ACCEPTED = 90, 15, 15


def _user(email: str, **extra):
    user = get_user_model()(username=email, email=email, **extra)
    user.set_unusable_password()
    user.save()
    return user


def seed() -> None:
    now = timezone.now()
    company = Company.objects.create(name="Crash Test Supplies")
    merchant = _user("owner@crash.test")
    Membership.objects.create(company=company, user=merchant, role="owner")
    reviewer = _user("reviewer@crash.test", is_staff=True)
    reviewer.groups.add(reviewers_group_ensure())
    product = Product.objects.create(company=company, name="Crash helmet")
    for index in range(OPEN + INFO_REQUESTED + ACCEPTED):
        customer = _user(f"customer{index}@crash.test")
        payment = Payment.objects.create(
            company=company,
            customer=customer,
            product=product,
            amount_cents=2500 + index,
            currency="EUR",
            method="card",
            paid_at=now - timedelta(days=40),
        )
        if index < OPEN:
            services.case_open(
                customer=customer, payment=payment, reason="not_received", description="?", now=now - timedelta(days=8)
            )
        elif index < OPEN + INFO_REQUESTED:
            case = services.case_open(
                customer=customer, payment=payment, reason="not_received", description="?", now=now - timedelta(days=10)
            )
            services.case_request_info(case=case, actor=merchant, message="Which?", now=now - timedelta(days=9))
        else:
            case = services.case_open(
                customer=customer, payment=payment, reason="not_received", description="?", now=now - timedelta(days=30)
            )
            services.case_escalate_overdue(case=case, now=now - timedelta(days=22))
            services.case_decide(
                case=case, actor=reviewer, decision="refund", note="Refund.", now=now - timedelta(days=21)
            )
