"""Evidence files: the type is decided from the bytes, never from the name or the browser's claim."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Sum

from resolution_center.exceptions import ApplicationError

from .models import Attachment

ALLOWED_DESCRIPTION = "images (PNG, JPEG, GIF, WebP), PDF, or video (MP4, WebM, QuickTime)"


def sniff_content_type(head: bytes) -> str | None:
    """The real type of a file from its first bytes, or None when it is not one we accept."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    return None


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str


def attachments_check(files: list[UploadedFile] | None) -> list[CheckedFile]:
    """Validate every file before anything is written, so a bad file saves nothing at all."""
    files = [f for f in (files or []) if f]
    limit = settings.RESOLUTION["MAX_FILES_PER_MESSAGE"]
    if len(files) > limit:
        raise ApplicationError(f"You can attach at most {limit} files at a time.")
    max_bytes = settings.RESOLUTION["MAX_FILE_BYTES"]
    checked = []
    for upload in files:
        name = (upload.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        # No control or direction-override characters: the name is shown and sent back in headers.
        name = "".join(ch for ch in name if ch.isprintable())[:255] or "file"
        if upload.size is None or upload.size == 0:
            raise ApplicationError(f"“{name}” is empty.")
        if upload.size > max_bytes:
            raise ApplicationError(f"“{name}” is larger than the {max_bytes // (1024 * 1024)} MB limit for a file.")
        upload.seek(0)
        head = upload.read(64)
        content_type = sniff_content_type(head)
        if content_type is None:
            raise ApplicationError(f"“{name}” is not an accepted file type. Please attach {ALLOWED_DESCRIPTION}.")
        digest = hashlib.sha256()
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        checked.append(
            CheckedFile(
                upload=upload,
                original_name=name,
                content_type=content_type,
                size_bytes=upload.size,
                sha256=digest.hexdigest(),
            )
        )
    return checked


QUOTA_WINDOW = timedelta(days=1)


def attachments_quota_check(*, uploader, checked: list[CheckedFile], now: datetime) -> None:
    """Refuse files that would take a person past their upload allowance for the last 24 hours
    (MAX_UPLOAD_FILES_PER_DAY files, MAX_UPLOAD_BYTES_PER_DAY bytes), counted across all cases."""
    if not checked or uploader is None or getattr(uploader, "pk", None) is None:
        return
    used = Attachment.objects.filter(uploaded_by_id=uploader.pk, created_at__gt=now - QUOTA_WINDOW).aggregate(
        files=Count("id"), size=Sum("size_bytes")
    )
    used_files, used_bytes = used["files"] or 0, used["size"] or 0
    max_files = settings.RESOLUTION["MAX_UPLOAD_FILES_PER_DAY"]
    max_bytes = settings.RESOLUTION["MAX_UPLOAD_BYTES_PER_DAY"]
    if used_files + len(checked) > max_files:
        left = max(0, max_files - used_files)
        raise ApplicationError(
            f"You can upload at most {max_files} files in 24 hours and have {left} left. "
            "Send your message without files or with fewer, or try again tomorrow."
        )
    if used_bytes + sum(item.size_bytes for item in checked) > max_bytes:
        left_mb = max(0, max_bytes - used_bytes) / (1024 * 1024)
        raise ApplicationError(
            f"You can upload at most {max_bytes // (1024 * 1024)} MB of files in 24 hours and have "
            f"{left_mb:.1f} MB left. Send smaller files, or try again tomorrow."
        )
