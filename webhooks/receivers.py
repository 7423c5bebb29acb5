"""Connects webhooks to what the cases app reports (cases.signals), in the change's transaction.
Connected once, in WebhooksConfig.ready."""

from cases.models import CaseEvent
from cases.signals import case_events_appended, case_events_appended_in_bulk

from .recording import webhook_events_record, webhook_events_record_bulk


def _events_appended(sender, *, events, **kwargs) -> None:
    webhook_events_record(events=events)


def _events_appended_in_bulk(sender, *, event, case_ids, **kwargs) -> None:
    webhook_events_record_bulk(event=event, case_ids=case_ids)


def connect() -> None:
    case_events_appended.connect(_events_appended, sender=CaseEvent, dispatch_uid="webhooks.events")
    case_events_appended_in_bulk.connect(
        _events_appended_in_bulk, sender=CaseEvent, dispatch_uid="webhooks.events_in_bulk"
    )
