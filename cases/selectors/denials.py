"""The merchant's denial as the customer reads it at the top of the case page."""

from django.db.models import Subquery

from payments.models import ActorKind

from ..models import Case, CaseEvent, Message, Visibility


def case_denial_message(*, case: Case) -> Message | None:
    """The message the merchant sent with their denial (posted with the DENIED event, at the same
    moment), with its files; None when the merchant did not deny this case."""
    denied_at = (
        CaseEvent.objects.filter(case_id=case.pk, action=CaseEvent.Action.DENIED, actor_kind=ActorKind.MERCHANT)
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return (
        Message.objects.filter(
            case_id=case.pk,
            author_kind=ActorKind.MERCHANT,
            visibility=Visibility.EVERYONE,
            created_at=Subquery(denied_at),
        )
        .prefetch_related("attachments")
        .order_by("id")
        .first()
    )
