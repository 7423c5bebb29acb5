"""Connects notifications to what the cases app reports (cases.signals), so that every timeline
event DOMAIN.md names is told to the right people in the same transaction. Connected once, in
NotificationsConfig.ready."""

from cases.models import CaseEvent
from cases.signals import case_events_appended, case_events_appended_in_bulk

from .services import notifications_for_events, notifications_for_system_events


def _events_appended(sender, *, events, told_by_change=False, **kwargs) -> None:
    notifications_for_events(events=events, told_by_change=told_by_change)


def _events_appended_in_bulk(sender, *, event, case_ids, outcome="", **kwargs) -> None:
    notifications_for_system_events(event=event, case_ids=case_ids, outcome=outcome)


def connect() -> None:
    case_events_appended.connect(_events_appended, sender=CaseEvent, dispatch_uid="notifications.events")
    case_events_appended_in_bulk.connect(
        _events_appended_in_bulk, sender=CaseEvent, dispatch_uid="notifications.events_in_bulk"
    )
