"""A person opened a case's page: what the lists mark as unseen is cleared (selectors/unseen.py).

Not an action on the case (nothing changes for anyone else, so no lock and no policy check: the page
that calls it already proved the person may see the case); at most one upsert statement."""

from datetime import datetime

from ..models import Case, CaseReadMark
from .base import now_or


def case_mark_seen(*, case: Case, user, now: datetime | None = None) -> bool:
    """Record that ``user`` saw ``case`` now (insert, or move their one mark forward), in one query.

    The page's case comes with ``has_unseen`` (read in its own query by the case getters): when
    nothing is unseen the mark is left as it is, since moving it forward would change no list, and
    a page view then writes nothing. Returns whether it wrote."""
    if not getattr(case, "has_unseen", True):
        return False
    CaseReadMark.objects.bulk_create(
        [CaseReadMark(case_id=case.pk, user_id=user.pk, seen_at=now_or(now))],
        update_conflicts=True,
        unique_fields=["case", "user"],
        update_fields=["seen_at"],
    )
    return True
