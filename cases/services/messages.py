"""Messages and their evidence files, from any party."""

from contextlib import contextmanager
from datetime import datetime

from django.db import transaction

from payments.models import ActorKind
from resolution_center.exceptions import ApplicationError, NotAllowedError

from ..attachments import CheckedFile, attachments_check, attachments_quota_check
from ..models import Attachment, Case, CaseEvent, Message, Visibility
from ..policy import CaseAction, case_action_require
from .base import MAX_MESSAGE, clean_text, event_append, lock, now_or


@contextmanager
def files_removed_on_error():
    """Files are written to storage before the transaction commits; if the action then fails,
    the rows roll back and this removes the files they pointed to, so nothing is half-saved."""
    written: list[Attachment] = []
    try:
        yield written
    except BaseException:
        for attachment in written:
            attachment.file.delete(save=False)
        raise


def files_store(
    *,
    case: Case,
    message: Message | None,
    checked: list[CheckedFile],
    actor_kind: str,
    actor,
    now: datetime,
    written: list[Attachment],
) -> None:
    attachments_quota_check(uploader=actor, checked=checked, now=now)
    for item in checked:
        attachment = Attachment(
            case=case,
            message=message,
            original_name=item.original_name,
            content_type=item.content_type,
            size_bytes=item.size_bytes,
            sha256=item.sha256,
            uploaded_by_kind=actor_kind,
            uploaded_by=actor,
            created_at=now,
        )
        attachment.file.save(item.typed_name, item.upload, save=False)
        written.append(attachment)
        attachment.save()
        event_append(
            case=case,
            actor_kind=actor_kind,
            actor=actor,
            action=CaseEvent.Action.FILE,
            note=item.original_name,
            now=now,
        )


def message_post(
    *,
    case: Case,
    actor_kind: str,
    actor,
    body: str,
    checked: list[CheckedFile],
    now: datetime,
    visibility: str = Visibility.EVERYONE,
    event: bool = True,
    written: list[Attachment] | None = None,
    alone: bool = False,
) -> Message:
    """Write a message with its files (and, unless the caller's own event carries it, its timeline row).

    ``alone``: a message on its own (case_message_post, a reviewer's question), which notifies the
    other side; a message posted with a state change (the default) is told by that change's notice.
    The files are removed again if this fails; pass ``written`` to have them removed if the caller's
    later work fails instead (the caller then holds files_removed_on_error)."""
    message = Message.objects.create(
        case=case, author_kind=actor_kind, author=actor, body=body, visibility=visibility, created_at=now
    )
    if event:
        event_append(
            case=case,
            actor_kind=actor_kind,
            actor=actor,
            action=CaseEvent.Action.MESSAGE,
            note=body,
            visibility=visibility,
            now=now,
            told_by_change=not alone,
        )
    if written is not None:
        files_store(
            case=case, message=message, checked=checked, actor_kind=actor_kind, actor=actor, now=now, written=written
        )
        return message
    with files_removed_on_error() as own:
        files_store(
            case=case, message=message, checked=checked, actor_kind=actor_kind, actor=actor, now=now, written=own
        )
    return message


@transaction.atomic
def case_message_post(
    *,
    case: Case | int,
    actor,
    body: str,
    files=None,
    visibility: str = Visibility.EVERYONE,
    now: datetime | None = None,
) -> Message:
    """A message from any party; it never stops a clock (only Accept, Deny and Request info do)."""
    now = now_or(now)
    body = clean_text(body, what="a message", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    if visibility not in Visibility.values:
        raise ApplicationError("Please choose who may see this message.")
    case = lock(case)
    actor_kind = case_action_require(case=case, user=actor, action=CaseAction.MESSAGE, now=now)
    if actor_kind != ActorKind.REVIEWER and visibility != Visibility.EVERYONE:
        raise NotAllowedError("Only reviewers can post messages that one party does not see.")
    return message_post(
        case=case,
        actor_kind=actor_kind,
        actor=actor,
        body=body,
        checked=checked,
        visibility=visibility,
        now=now,
        alone=True,
    )
