"""Reads of cases, scoped to who is asking. Another party's case answers 404 (not 403), so its
existence is not revealed; each refusal is logged for the audit trail."""

import logging
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from payments.models import ActorKind, Membership, Payment
from payments.selectors import is_member

from ..models import Attachment, Case, CaseEvent, Message
from ..policy import user_is_reviewer
from .unseen import unseen_activity
from .visibility import visibilities_for

security_log = logging.getLogger("resolution_center.security")


def not_found(user, what: str, pk) -> Http404:
    security_log.warning(
        "access denied: user=%s tried to reach %s #%s", getattr(user, "pk", None) or "anonymous", what, pk
    )
    return Http404(f"No such {what}.")


def case_get_for_customer(*, user, case_id: int) -> Case:
    """The customer's own case, with ``has_unseen`` (selectors/unseen.py) read in the same query."""
    case = (
        Case.objects.select_related("payment__product", "company")
        .filter(pk=case_id, customer_id=user.pk)
        .annotate(has_unseen=unseen_activity(user_id=user.pk, side=ActorKind.CUSTOMER))
        .first()
    )
    if case is None:
        raise not_found(user, "case", case_id)
    return case


def case_get_for_merchant(*, user, company_id: int, case_id: int) -> Case:
    """A case of the member's company, with ``has_unseen`` (selectors/unseen.py) read in the same query."""
    case = (
        Case.objects.select_related("payment__product", "company", "customer")
        .filter(pk=case_id, company_id=company_id, company__memberships__user=user)
        .annotate(has_unseen=unseen_activity(user_id=user.pk, side=ActorKind.MERCHANT))
        .first()
    )
    if case is None:
        raise not_found(user, "case", case_id)
    return case


def payment_get_for_customer(*, user, payment_id: int) -> Payment:
    payment = Payment.objects.select_related("company", "product").filter(pk=payment_id, customer_id=user.pk).first()
    if payment is None:
        raise not_found(user, "payment", payment_id)
    return payment


def case_timeline(*, case: Case, viewer: str) -> QuerySet[CaseEvent]:
    """The events this party may see, oldest first."""
    return (
        case.events.filter(visibility__in=visibilities_for(viewer)).select_related("actor").order_by("created_at", "id")
    )


def case_messages(*, case: Case, viewer: str) -> QuerySet[Message]:
    return (
        case.messages.filter(visibility__in=visibilities_for(viewer))
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def attachment_get_for_user(*, user, attachment_id: int) -> Attachment:
    """An evidence file for its case's customer, a member of the case's company, or a reviewer,
    and only when the message it came with is visible to that party; anyone else gets 404."""
    attachment = Attachment.objects.select_related("case", "message").filter(pk=attachment_id).first()
    if attachment is not None and getattr(user, "is_authenticated", False):
        case = attachment.case
        # A person may hold more than one part on a case (a merchant who bought from their own
        # company); they see what any of their parts may see.
        parts = []
        if case.customer_id == user.pk:
            parts.append(ActorKind.CUSTOMER)
        if is_member(user=user, company_id=case.company_id):
            parts.append(ActorKind.MERCHANT)
        if user_is_reviewer(user):
            parts.append(ActorKind.REVIEWER)
        message = attachment.message
        if any(message is None or message.visibility in visibilities_for(part) for part in parts):
            return attachment
    raise not_found(user, "file", attachment_id)


@dataclass(frozen=True)
class UserSides:
    """Which sides of the product a user may use: one person can be a customer and a merchant."""

    customer: bool
    merchant: bool
    reviewer: bool


def user_sides(*, user) -> UserSides:
    if not getattr(user, "is_authenticated", False):
        return UserSides(customer=False, merchant=False, reviewer=False)
    return UserSides(
        customer=Payment.objects.filter(customer_id=user.pk).exists(),
        merchant=Membership.objects.filter(user_id=user.pk).exists(),
        reviewer=user_is_reviewer(user),
    )


def case_list_for_customer(*, user) -> QuerySet[Case]:
    return Case.objects.filter(customer_id=user.pk).select_related("payment__product", "company")
