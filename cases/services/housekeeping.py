"""Daily housekeeping (scheduled by ``manage.py setup_schedules``, run by cases.tasks.housekeeping_daily):
one-time form tokens that can no longer matter and evidence files that no Attachment row names.

Both are safe to run at any time, from any number of workers: each only deletes what is already
gone from the product's point of view, and a second run finds nothing more to do.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.files.storage import Storage, default_storage

from ..models import Attachment, FormSubmission
from .base import now_or

# A rendered form older than this is not sent again by a double click or a resent request.
FORM_TOKEN_MAX_AGE = timedelta(days=1)
# Every evidence file lives under this folder of the default storage (cases.models.attachment_upload_to).
EVIDENCE_PREFIX = "evidence"
# An upload writes its file a moment before its row commits: a file younger than this is never
# taken for an orphan.
ORPHAN_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class HousekeepingResult:
    form_tokens_deleted: int
    orphan_files_deleted: int

    def as_dict(self) -> dict:
        return asdict(self)


def form_tokens_purge(*, now: datetime | None = None) -> int:
    """Delete one-time form tokens older than a day; returns how many."""
    cutoff = now_or(now) - FORM_TOKEN_MAX_AGE
    deleted, _ = FormSubmission.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _evidence_files(storage: Storage, folder: str):
    """(folder, name) for every file under ``folder``, walking sub-folders."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield folder, f"{folder}/{name}"
    for sub in folders:
        yield from _evidence_files(storage, f"{folder}/{sub}")


def evidence_orphans_purge(*, now: datetime | None = None, storage: Storage | None = None) -> int:
    """Delete evidence files (older than a day) that no Attachment row refers to; returns how many.

    Orphans come from uploads whose transaction rolled back after the file was written. Names are
    checked one folder (one case) at a time, so memory stays small however many files there are.
    """
    storage = storage or default_storage
    cutoff = now_or(now) - ORPHAN_GRACE
    deleted = 0
    referenced_by_folder: dict[str, set[str]] = {}
    for folder, name in _evidence_files(storage, EVIDENCE_PREFIX):
        if folder not in referenced_by_folder:
            referenced_by_folder.clear()
            referenced_by_folder[folder] = set(
                Attachment.objects.filter(file__startswith=f"{folder}/").values_list("file", flat=True)
            )
        if name in referenced_by_folder[folder]:
            continue
        if storage.get_modified_time(name) >= cutoff:
            continue
        # Checked again right before deleting, in case a row was written since the folder was read.
        if Attachment.objects.filter(file=name).exists():
            continue
        storage.delete(name)
        deleted += 1
    return deleted


def housekeeping_run(*, now: datetime | None = None, storage: Storage | None = None) -> HousekeepingResult:
    """Both clean-ups, as the daily schedule runs them."""
    now = now_or(now)
    return HousekeepingResult(
        form_tokens_deleted=form_tokens_purge(now=now),
        orphan_files_deleted=evidence_orphans_purge(now=now, storage=storage),
    )
