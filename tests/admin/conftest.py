"""Builders for the admin tests: cases in the reviewer's states, made through the real services."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case
from cases.reviewers import reviewers_group_ensure
from payments.models import BalanceCredit, Refund
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _reviewers_group(db):
    """The migration's group, restored if a transactional test emptied the tables before this one."""
    reviewers_group_ensure()


def escalated_case(*, company=None, customer=None, amount_cents=5000, waited_days=2, reason="not_received", files=None):
    """A case the merchant left unanswered, escalated ``waited_days`` ago."""
    now = timezone.now()
    company = company or CompanyFactory()
    opened = now - timedelta(days=waited_days + 8)
    payment = PaymentFactory(
        company=company,
        customer=customer or UserFactory(),
        amount_cents=amount_cents,
        paid_at=opened - timedelta(days=1),
    )
    case = services.case_open(
        customer=payment.customer,
        payment=payment,
        reason=reason,
        description="It never arrived.",
        files=files,
        now=opened,
    )
    assert services.case_escalate_overdue(case=case, now=now - timedelta(days=waited_days))
    return Case.objects.get(pk=case.pk)


def appealed_case(*, company=None, customer=None, amount_cents=5000, waited_days=1):
    """A case the merchant denied and the customer appealed ``waited_days`` ago."""
    now = timezone.now()
    company = company or CompanyFactory()
    opened = now - timedelta(days=waited_days + 3)
    payment = PaymentFactory(
        company=company, customer=customer or UserFactory(), amount_cents=amount_cents, paid_at=opened
    )
    case = services.case_open(
        customer=payment.customer, payment=payment, reason="not_as_described", description="Broken.", now=opened
    )
    services.case_deny(
        case=case,
        actor=merchant_of(company),
        reason="delivered_as_described",
        message="Works for us.",
        now=opened + timedelta(hours=1),
    )
    services.case_appeal(
        case=case, actor=payment.customer, statement="It is broken.", now=now - timedelta(days=waited_days)
    )
    return Case.objects.get(pk=case.pk)


def open_case(*, company=None):
    company = company or CompanyFactory()
    payment = PaymentFactory(company=company)
    return services.case_open(customer=payment.customer, payment=payment, reason="poor_quality", description="Meh.")


def staff_outside_reviewers():
    """Staff who may look at cases and money rows (view permissions given explicitly) but is not a reviewer."""
    user = UserFactory(is_staff=True)
    codenames = ["view_case", "view_caseevent", "view_message", "view_attachment", "view_payment", "view_refund"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def case_url(case, action: str) -> str:
    names = {
        "decide": "admin:cases_case_decide",
        "decide-appeal": "admin:cases_case_decide_appeal",
        "request-info": "admin:cases_case_request_info",
        "message": "admin:cases_case_message",
        "change": "admin:cases_case_change",
    }
    return reverse(names[action], args=[case.pk])


def snapshot(case) -> dict:
    """Everything a refused request must leave as it was."""
    case = Case.objects.get(pk=case.pk)
    return {
        "status": case.status,
        "outcome": case.outcome,
        "events": case.events.count(),
        "messages": case.messages.count(),
        "refunds": Refund.objects.filter(payment_id=case.payment_id).count(),
        "credits": BalanceCredit.objects.filter(case_id=case.pk).count(),
    }
