"""Evidence files: the type is decided from the bytes, never from the name or the browser's claim."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Sum

from resolution_center.exceptions import ApplicationError

from .models import Attachment

ALLOWED_DESCRIPTION = "images (PNG, JPEG, GIF, WebP), PDF, or video (MP4, WebM, QuickTime)"

# What filetype detects -> (the type we store and send, the extension a download gets). Only these
# are accepted: types every browser shows. An animated PNG is a PNG to a browser.
ACCEPTED_TYPES: dict[str, tuple[str, str]] = {
    "image/png": ("image/png", "png"),
    "image/apng": ("image/png", "png"),
    "image/jpeg": ("image/jpeg", "jpg"),
    "image/gif": ("image/gif", "gif"),
    "image/webp": ("image/webp", "webp"),
    "application/pdf": ("application/pdf", "pdf"),
    "video/mp4": ("video/mp4", "mp4"),
    "video/webm": ("video/webm", "webm"),
    "video/quicktime": ("video/quicktime", "mov"),
}
EXTENSION_FOR_TYPE = dict(ACCEPTED_TYPES.values())

# Types people often have at hand that we refuse, with what to send instead.
REFUSED_WITH_ADVICE = {
    "image/heic": "HEIC photos cannot be shown in browsers; please upload a JPEG or PNG "
    "(on an iPhone, share the photo as JPEG, or set Camera > Formats to Most Compatible).",
    "image/avif": "AVIF images are not accepted; please upload a JPEG or PNG.",
    "audio/mp4": "Audio recordings (M4A) are not accepted; please attach a video (MP4, WebM, QuickTime) or a "
    "screenshot instead.",
    "video/3gpp": "3GP recordings are not accepted; please attach an MP4, WebM or QuickTime video.",
}

# filetype reads at most this many bytes itself; an ISO media header (MP4, HEIC) lists its brands
# in the first box, which can be longer than a few dozen bytes.
HEAD_BYTES = 8192
# filetype 1.2.0 looks for a 3GP's "ftyp3gp" at the file's first byte instead of its fourth, so a
# 3GP recording that lists "isom" among its brands is reported as MP4; its major brand says 3GP.
THREE_GPP_BRANDS = (b"3gp", b"3g2")


def detect_content_type(head: bytes) -> tuple[str | None, str | None]:
    """The type a file really is, from its first bytes: (accepted type, None), or (None, the
    detected type we refuse, or None when filetype does not know it)."""
    kind = filetype.guess(head)
    if kind is None:
        return None, None
    mime = kind.mime
    if mime == "video/mp4" and head[8:11] in THREE_GPP_BRANDS:
        mime = "video/3gpp"
    accepted = ACCEPTED_TYPES.get(mime)
    if accepted is None:
        return None, mime
    return accepted[0], None


def typed_file_name(name: str, content_type: str) -> str:
    """``name`` with the extension of the type its bytes are, whatever extension it came with:
    ``invoice.html`` that is a GIF is ``invoice.gif``."""
    extension = EXTENSION_FOR_TYPE.get(content_type)
    if extension is None:
        return name
    stem = PurePosixPath(name).stem if PurePosixPath(name).suffix else name
    return f"{stem or 'file'}.{extension}"


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str

    @property
    def typed_name(self) -> str:
        return typed_file_name(self.original_name, self.content_type)


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
        head = upload.read(HEAD_BYTES)
        content_type, refused_type = detect_content_type(head)
        if content_type is None:
            advice = REFUSED_WITH_ADVICE.get(refused_type) or f"Please attach {ALLOWED_DESCRIPTION}."
            raise ApplicationError(f"“{name}” is not an accepted file type. {advice}")
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
