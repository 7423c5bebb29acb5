"""Unseen activity (DOMAIN.md, "Messages reach people"): every list marks a case that has something
the viewer has not seen yet: a timeline row (every message has one) newer than when they last
opened the case (CaseReadMark; never opened counts as never seen), made by someone other than the
viewer's side, that the viewer may see. Delivery records (``notification`` rows) do not count.

One EXISTS per row, annotated on the list's own query, so a list's query count stays flat; it
reads only the events after the mark (the ``caseevent_case_created`` index)."""

from datetime import UTC, datetime

from django.db.models import DateTimeField, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ..models import CaseEvent, CaseReadMark
from .visibility import visibilities_for

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def unseen_activity(*, user_id: int, side: str) -> Exists:
    """An expression, per case row: True when it has activity ``user_id`` (on ``side``: customer,
    merchant or reviewer) has not seen."""
    seen_at = CaseReadMark.objects.filter(case_id=OuterRef(OuterRef("pk")), user_id=user_id).values("seen_at")[:1]
    return Exists(
        CaseEvent.objects.filter(
            case_id=OuterRef("pk"),
            visibility__in=visibilities_for(side),
            created_at__gt=Coalesce(Subquery(seen_at), Value(NEVER, output_field=DateTimeField())),
        )
        .exclude(actor_kind=side)
        .exclude(action=CaseEvent.Action.NOTIFICATION)
    )


def with_unseen(cases: QuerySet, *, user_id: int, side: str) -> QuerySet:
    """``cases`` with ``has_unseen`` on each row (see unseen_activity)."""
    return cases.annotate(has_unseen=unseen_activity(user_id=user_id, side=side))
