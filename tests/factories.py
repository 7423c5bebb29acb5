from dataclasses import dataclass
from datetime import datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import Case
from payments.models import Company, Membership, Payment, Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.test")
    email = factory.LazyAttribute(lambda u: u.username)
    first_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-123456789")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    company = factory.SubFactory(CompanyFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Product {n}")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    company = factory.SubFactory(CompanyFactory)
    customer = factory.SubFactory(UserFactory)
    product = factory.SubFactory(ProductFactory, company=factory.SelfAttribute("..company"))
    amount_cents = 5000
    currency = "USD"
    method = "card"
    paid_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))


def merchant_of(company, role=Membership.Role.OWNER):
    return MembershipFactory(company=company, role=role).user


def reviewer():
    """A platform reviewer: staff in the Reviewers group with exactly the migration's permissions."""
    from cases.reviewers import reviewers_group_ensure

    group = reviewers_group_ensure()
    user = UserFactory(is_staff=True)
    user.groups.add(group)
    return user


# --- Cases in a given state, built through the real services (so timelines and money are real) ---


@dataclass
class CaseScene:
    """A case and everyone around it. ``now`` is the time of the last step; act after it."""

    case: Case
    payment: Payment
    customer: object
    merchant: object
    other_merchant: object  # a member of another company: never a party to this case
    reviewer: object
    now: datetime

    def later(self, **delta) -> datetime:
        return self.now + timedelta(**delta)

    def refresh(self) -> Case:
        self.case.refresh_from_db()
        self.payment.refresh_from_db()
        return self.case


def case_in_state(status: str, *, via: str = "", method: str = "card", amount_cents: int = 5000, now=None) -> CaseScene:
    """A case in ``status`` reached the way DOMAIN.md says. ``via`` picks the path where several lead there:
    denied: "merchant" (default), "reviewer", "silence"; appealed: "customer" (default), "merchant";
    final: "accepted" (default), "withdrawn", "credited", "denied"."""
    from cases import services

    t = now or timezone.now()
    company = CompanyFactory()
    merchant = merchant_of(company)
    other_merchant = merchant_of(CompanyFactory())
    customer = UserFactory()
    payment = PaymentFactory(
        company=company, customer=customer, method=method, amount_cents=amount_cents, paid_at=t - timedelta(days=3)
    )
    staff = reviewer()
    case = services.case_open(
        customer=customer, payment=payment, reason="not_received", description="Never came", now=t
    )

    def step(hours=1):
        nonlocal t
        t = t + timedelta(hours=hours)
        return t

    def escalate():
        services.case_escalate_overdue(case=case, now=step(7 * 24 + 1))

    if status == "info_requested":
        services.case_request_info(case=case, actor=merchant, message="Tracking number?", now=step())
    elif status == "escalated":
        escalate()
    elif status == "accepted":
        escalate()
        services.case_decide(case=case, actor=staff, decision="refund", note="Refund it.", now=step())
    elif status == "denied" or (status, via) in (("appealed", ""), ("appealed", "customer"), ("final", "denied")):
        if via == "reviewer":
            escalate()
            services.case_decide(case=case, actor=staff, decision="merchant_wins", note="Delivered.", now=step())
        elif via == "silence":
            services.case_request_info(case=case, actor=merchant, message="Tracking number?", now=step())
            services.case_deny_unanswered(case=case, now=step(7 * 24 + 1))
        else:
            services.case_deny(
                case=case, actor=merchant, reason="delivered_as_described", message="Delivered.", now=step()
            )
        if status == "appealed":
            services.case_appeal(case=case, actor=customer, statement="It did not arrive.", now=step())
        elif status == "final":
            services.case_appeal_waive(case=case, actor=customer, now=step())
    elif status == "appealed" and via == "merchant":
        escalate()
        services.case_decide(case=case, actor=staff, decision="refund", note="Refund it.", now=step())
        services.case_appeal(case=case, actor=merchant, statement="It was delivered.", now=step())
    elif status == "final" and via in ("", "accepted"):
        services.case_accept(case=case, actor=merchant, now=step())
    elif status == "final" and via == "withdrawn":
        services.case_withdraw(case=case, actor=customer, now=step())
    elif status == "final" and via == "credited":
        escalate()
        services.case_decide(case=case, actor=staff, decision="credit", note="Goodwill.", now=step())
    elif status != "open":
        raise ValueError(f"case_in_state does not know how to reach {status!r} via {via!r}")
    scene = CaseScene(
        case=case,
        payment=payment,
        customer=customer,
        merchant=merchant,
        other_merchant=other_merchant,
        reviewer=staff,
        now=t,
    )
    scene.refresh()
    return scene
