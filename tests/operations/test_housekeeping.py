"""Daily housekeeping: one-time form tokens older than a day and evidence files that no
Attachment row names are removed (cases.services.housekeeping, scheduled by setup_schedules)."""

import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from cases import services, tasks
from cases.models import Attachment, FormSubmission
from payments.models import ActorKind
from tests.factories import UserFactory, case_in_state

pytestmark = pytest.mark.django_db


def age(name: str, days: float) -> None:
    """Set a stored file's modification time ``days`` back (the default storage is the disk in tests)."""
    stamp = (timezone.now() - timedelta(days=days)).timestamp()
    os.utime(default_storage.path(name), (stamp, stamp))


def attach(case, name: str) -> Attachment:
    stored = default_storage.save(name, ContentFile(b"\x89PNG\r\n\x1a\n evidence"))
    return Attachment.objects.create(
        case=case,
        file=stored,
        original_name="receipt.png",
        content_type="image/png",
        size_bytes=16,
        sha256="0" * 64,
        uploaded_by_kind=ActorKind.CUSTOMER,
        uploaded_by=case.customer,
        created_at=timezone.now() - timedelta(days=3),
    )


def test_form_tokens_purge_older_than_a_day_removed_fresh_kept():
    """A token from two days ago goes; one from an hour ago (its form may still be resent) stays."""
    user = UserFactory()
    now = timezone.now()
    FormSubmission.objects.create(user=user, token="a" * 32, created_at=now - timedelta(days=2))
    FormSubmission.objects.create(user=user, token="b" * 32, created_at=now - timedelta(hours=1))

    deleted = services.form_tokens_purge(now=now)

    assert deleted == 1
    assert list(FormSubmission.objects.values_list("token", flat=True)) == ["b" * 32]


def test_evidence_orphans_purge_unreferenced_file_removed_referenced_kept():
    """On the default storage: a file with no Attachment row is deleted, the attached one stays."""
    case = case_in_state("open").case
    attachment = attach(case, f"evidence/{case.pk}/kept.png")
    orphan = default_storage.save(f"evidence/{case.pk}/orphan.png", ContentFile(b"left behind"))
    other_case_orphan = default_storage.save("evidence/999999/orphan.pdf", ContentFile(b"left behind"))
    for name in (attachment.file.name, orphan, other_case_orphan):
        age(name, days=2)

    deleted = services.evidence_orphans_purge()

    assert deleted == 2
    assert default_storage.exists(attachment.file.name)
    assert not default_storage.exists(orphan)
    assert not default_storage.exists(other_case_orphan)


def test_evidence_orphans_purge_file_written_moments_ago_kept():
    """A file younger than a day may belong to an upload whose row is about to commit: kept."""
    case = case_in_state("open").case
    in_flight = default_storage.save(f"evidence/{case.pk}/uploading.png", ContentFile(b"in flight"))

    assert services.evidence_orphans_purge() == 0
    assert default_storage.exists(in_flight)


def test_evidence_orphans_purge_files_outside_evidence_folder_kept():
    """Only the evidence folder is swept: anything else in the storage is not ours to delete."""
    other = default_storage.save("exports/report.csv", ContentFile(b"a,b"))
    age(other, days=30)

    assert services.evidence_orphans_purge() == 0
    assert default_storage.exists(other)


def test_housekeeping_daily_task_old_token_and_orphan_removed_and_counted():
    """The scheduled task runs both clean-ups and reports what it removed; a second run finds nothing."""
    case = case_in_state("open").case
    FormSubmission.objects.create(user=case.customer, token="c" * 32, created_at=timezone.now() - timedelta(days=3))
    orphan = default_storage.save(f"evidence/{case.pk}/orphan.png", ContentFile(b"left behind"))
    age(orphan, days=3)

    assert tasks.housekeeping_daily() == {"form_tokens_deleted": 1, "orphan_files_deleted": 1}
    assert tasks.housekeeping_daily() == {"form_tokens_deleted": 0, "orphan_files_deleted": 0}
