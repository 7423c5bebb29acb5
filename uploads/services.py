"""The API's `files` resource on our own storage: create a file, receive its bytes (a presigned S3
PUT, or our own upload URL on the file-system backend), check them with the web forms' rules
(cases.attachments: the type from the bytes, the size limit), and hand them to case actions by id.

Whoever owns a file (the company of the API key, or the customer of the personal token) is the
only one who sees it or attaches it; anyone else is told it does not exist.
"""

import base64
import binascii
import hashlib
import io
import logging
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from tempfile import SpooledTemporaryFile

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.files.base import File
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from cases.attachments import (
    ALLOWED_DESCRIPTION,
    HEAD_BYTES,
    REFUSED_WITH_ADVICE,
    CheckedFile,
    attachments_check,
    detect_content_type,
)
from payments.models import Company
from resolution_center.exceptions import ApplicationError

from .models import FileUpload, FileUploadStatus

log = logging.getLogger(__name__)

ID_ALPHABET = string.ascii_letters + string.digits
ID_PREFIX = "file_"
PAGE_DEFAULT = 100
PAGE_MAX = 100
FILE_IDS_MAX = 250
QUOTA_WINDOW = timedelta(days=1)
UPLOAD_SALT = "uploads.put"
# Whop's multipart uploads: parts of 5 MB (S3's smallest part), the last one shorter.
MULTIPART_CHUNK_BYTES = 5 * 1024 * 1024
DOWNLOAD_SALT = "uploads.get"


class FileNotFound(ApplicationError):
    """No such file for this owner (it may exist for somebody else: they are never told apart)."""


class FileConflict(ApplicationError):
    """The file is not in a state where this is possible (already uploaded, not uploaded yet)."""


def upload_url_seconds() -> int:
    return int(getattr(settings, "FILE_UPLOAD_URL_SECONDS", 3600))


def download_url_seconds() -> int:
    return int(getattr(settings, "FILE_DOWNLOAD_URL_SECONDS", 300))


# --- Owners ------------------------------------------------------------------------------------
# An owner is a payments.Company (a company API key) or a user (a customer's personal token).


def _owner_filter(owner) -> Q:
    if isinstance(owner, Company):
        return Q(company_id=owner.pk)
    if isinstance(owner, get_user_model()):
        return Q(user_id=owner.pk)
    raise TypeError(f"a file's owner is a Company or a user, not {type(owner).__name__}")


def _owner_fields(owner) -> dict:
    if isinstance(owner, Company):
        return {"company": owner}
    if isinstance(owner, get_user_model()):
        return {"user": owner}
    raise TypeError(f"a file's owner is a Company or a user, not {type(owner).__name__}")


def files_of(owner) -> QuerySet[FileUpload]:
    return FileUpload.objects.filter(_owner_filter(owner))


def file_get(*, owner, file_id: str) -> FileUpload:
    found = files_of(owner).filter(public_id=str(file_id)).first()
    if found is None:
        raise FileNotFound(f"There is no file {str(file_id)[:60]!r}.")
    return found


# --- Storage -----------------------------------------------------------------------------------


def _storage():
    return storages["default"]


def storage_is_s3(storage=None) -> bool:
    storage = storage or _storage()
    return hasattr(storage, "bucket_name") and hasattr(storage, "connection")


def _clean_filename(filename: str) -> str:
    """The same cleaning the web forms give a file's name (cases.attachments.attachments_check)."""
    name = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:255].strip()


def _new_public_id() -> str:
    return ID_PREFIX + "".join(secrets.choice(ID_ALPHABET) for _ in range(24))


def _max_mb() -> int:
    return settings.RESOLUTION["MAX_FILE_BYTES"] // (1024 * 1024)


# --- Create ------------------------------------------------------------------------------------


def _quota_check(owner, *, now: datetime, adding_bytes: int) -> None:
    """The web forms' daily allowance, per owner: files made in the last 24 hours, bytes uploaded."""
    used = (
        files_of(owner)
        .filter(created_at__gt=now - QUOTA_WINDOW)
        .aggregate(files=Count("id"), size=Sum("size_bytes"), declared=Sum("declared_size"))
    )
    max_files = settings.RESOLUTION["MAX_UPLOAD_FILES_PER_DAY"]
    max_bytes = settings.RESOLUTION["MAX_UPLOAD_BYTES_PER_DAY"]
    if (used["files"] or 0) + 1 > max_files:
        raise ApplicationError(f"You can upload at most {max_files} files in 24 hours; try again tomorrow.")
    if (used["size"] or 0) + adding_bytes > max_bytes:
        raise ApplicationError(
            f"You can upload at most {max_bytes // (1024 * 1024)} MB of files in 24 hours; try again tomorrow."
        )


@transaction.atomic
def file_create(
    *,
    owner,
    filename: str,
    byte_size: int | None = None,
    multipart: bool | None = None,
    visibility: str | None = None,
    now: datetime | None = None,
) -> FileUpload:
    """A new pending file, waiting for its bytes at its upload URL."""
    now = now or timezone.now()
    name = _clean_filename(filename)
    if not name:
        raise ApplicationError("Please give the file's name, with its extension (for example receipt.pdf).")
    if visibility not in (None, "", "private"):
        raise ApplicationError(
            "Files here are always private (evidence is shown only to the case's parties): "
            "leave out visibility or send private."
        )
    max_bytes = settings.RESOLUTION["MAX_FILE_BYTES"]
    if multipart:
        if byte_size is None:
            raise ApplicationError("A multipart upload needs the file's byte_size.")
        if byte_size <= MULTIPART_CHUNK_BYTES:
            raise ApplicationError(
                f"A multipart upload is for files larger than {MULTIPART_CHUNK_BYTES // (1024 * 1024)} MB; "
                "upload this one in one part (leave out multipart)."
            )
    if byte_size is not None:
        if byte_size <= 0:
            raise ApplicationError(f"“{name}” is empty.")
        if byte_size > max_bytes:
            raise ApplicationError(f"“{name}” is larger than the {_max_mb()} MB limit for a file.")
    _quota_check(owner, now=now, adding_bytes=byte_size or 0)
    public_id = _new_public_id()
    file = FileUpload.objects.create(
        public_id=public_id,
        filename=name,
        declared_size=byte_size,
        storage_name=f"uploads/{public_id[len(ID_PREFIX) :]}",
        created_at=now,
        **_owner_fields(owner),
    )
    if multipart:
        file.multipart_parts = -(-byte_size // MULTIPART_CHUNK_BYTES)
        file.multipart_upload_id = _multipart_begin(file)
        file.save(update_fields=["multipart_parts", "multipart_upload_id"])
    return file


@dataclass(frozen=True)
class UploadTarget:
    url: str | None
    headers: dict[str, str]
    part_urls: list[dict] | None = None


def _s3_key(storage, name: str) -> str:
    from storages.utils import clean_name, safe_join

    return safe_join(storage.location, clean_name(name)) if storage.location else clean_name(name)


def _s3_client(storage):
    return storage.connection.meta.client


def _multipart_begin(file: FileUpload) -> str:
    storage = _storage()
    if not storage_is_s3(storage):
        return "mpu_" + secrets.token_hex(16)
    params = {"Bucket": storage.bucket_name, "Key": _s3_key(storage, file.storage_name)}
    return _s3_client(storage).create_multipart_upload(**params)["UploadId"]


def _part_name(file: FileUpload, part_number: int) -> str:
    return f"{file.storage_name}.part{part_number}"


def upload_target(file: FileUpload, *, local_url: str, local_part_url=None) -> UploadTarget:
    """Where the client PUTs the bytes: a presigned S3 URL (no ACL, nothing else to send), or
    ``local_url`` (our own endpoint, the caller's absolute URL for it) carrying a signed token.
    A multipart file gets one URL per part instead (``local_part_url(n)`` on the file system)."""
    storage = _storage()
    if file.multipart_upload_id:
        urls = []
        for number in range(1, (file.multipart_parts or 0) + 1):
            if storage_is_s3(storage):
                url = _s3_client(storage).generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": storage.bucket_name,
                        "Key": _s3_key(storage, file.storage_name),
                        "UploadId": file.multipart_upload_id,
                        "PartNumber": number,
                    },
                    ExpiresIn=upload_url_seconds(),
                )
            else:
                token = signing.TimestampSigner(salt=UPLOAD_SALT).sign(f"{file.public_id}.{number}")
                url = f"{local_part_url(number)}?token={token}"
            urls.append({"part_number": number, "url": url})
        return UploadTarget(url=None, headers={}, part_urls=urls)
    if storage_is_s3(storage):
        url = storage.url(file.storage_name, expire=upload_url_seconds(), http_method="PUT")
        return UploadTarget(url=url, headers={})
    token = signing.TimestampSigner(salt=UPLOAD_SALT).sign(file.public_id)
    separator = "&" if "?" in local_url else "?"
    return UploadTarget(url=f"{local_url}{separator}token={token}", headers={})


def _token_check(token: str, *, file_id: str, salt: str, max_age: int) -> bool:
    try:
        signed_id = signing.TimestampSigner(salt=salt).unsign(token or "", max_age=max_age)
    except signing.BadSignature:
        return False
    return secrets.compare_digest(signed_id, file_id)


def download_token(file: FileUpload) -> str:
    return signing.TimestampSigner(salt=DOWNLOAD_SALT).sign(file.public_id)


def file_for_token(*, file_id: str, token: str, download: bool = False) -> FileUpload:
    """The file a signed local upload (or download) URL is for; a bad or expired token: not found."""
    salt, max_age = (DOWNLOAD_SALT, download_url_seconds()) if download else (UPLOAD_SALT, upload_url_seconds())
    if not _token_check(token, file_id=str(file_id), salt=salt, max_age=max_age):
        raise FileNotFound("This upload link is not valid or has expired; create the file again.")
    found = FileUpload.objects.filter(public_id=str(file_id)).first()
    if found is None:
        raise FileNotFound("This upload link is not valid or has expired; create the file again.")
    return found


# --- Upload, check -----------------------------------------------------------------------------


def _fail(file: FileUpload, reason: str, *, now: datetime) -> FileUpload:
    try:
        _storage().delete(file.storage_name)
    except Exception:  # the bytes are unusable either way; the row says why
        log.warning("could not remove refused upload %s", file.storage_name, exc_info=True)
    file.status = FileUploadStatus.FAILED
    file.failure_reason = reason[:400]
    file.ready_at = None
    file.save(update_fields=["status", "failure_reason", "ready_at"])
    return file


def _check_stored(file: FileUpload, *, now: datetime) -> FileUpload:
    """Check the bytes now in storage as the web forms check theirs; ready or failed (and removed)."""
    storage = _storage()
    name, max_bytes = file.filename, settings.RESOLUTION["MAX_FILE_BYTES"]
    size = storage.size(file.storage_name)
    if size == 0:
        return _fail(file, f"“{name}” is empty.", now=now)
    if size > max_bytes:
        return _fail(file, f"“{name}” is larger than the {_max_mb()} MB limit for a file.", now=now)
    if file.declared_size is not None and size != file.declared_size:
        return _fail(file, f"“{name}” arrived with {size} bytes, not the {file.declared_size} announced.", now=now)
    digest = hashlib.sha256()
    with storage.open(file.storage_name, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        digest.update(head)
        for chunk in iter(lambda: handle.read(64 * 1024), b""):
            digest.update(chunk)
    content_type, refused_type = detect_content_type(head)
    if content_type is None:
        advice = REFUSED_WITH_ADVICE.get(refused_type) or f"Please attach {ALLOWED_DESCRIPTION}."
        return _fail(file, f"“{name}” is not an accepted file type. {advice}", now=now)
    file.status = FileUploadStatus.READY
    file.content_type = content_type
    file.size_bytes = size
    file.sha256 = digest.hexdigest()
    file.failure_reason = ""
    file.ready_at = now
    file.save(update_fields=["status", "content_type", "size_bytes", "sha256", "failure_reason", "ready_at"])
    return file


def file_refresh(file: FileUpload, *, now: datetime | None = None) -> FileUpload:
    """A pending file whose bytes have landed (a presigned PUT tells us nothing) is checked now."""
    if file.status != FileUploadStatus.PENDING:
        return file
    now = now or timezone.now()
    with transaction.atomic():
        locked = FileUpload.objects.select_for_update().get(pk=file.pk)
        if locked.status != FileUploadStatus.PENDING:
            return locked
        if not _storage().exists(locked.storage_name):
            return locked
        return _check_stored(locked, now=now)


def file_complete(
    *,
    owner,
    file_id: str,
    multipart_parts: list[tuple[int, str]] | None = None,
    multipart_upload_id: str = "",
    now: datetime | None = None,
) -> FileUpload:
    """The SDK's `complete`: a multipart file's parts are put together (``multipart_parts``:
    (part_number, etag) each), then the bytes are checked. Idempotent; a file still without bytes
    is a conflict the client can fix by uploading them."""
    file = file_get(owner=owner, file_id=file_id)
    if file.multipart_upload_id and file.status == FileUploadStatus.PENDING:
        _multipart_finish(file, parts=multipart_parts or [], upload_id=multipart_upload_id)
    file = file_refresh(file, now=now)
    if file.status == FileUploadStatus.PENDING:
        raise FileConflict(f"{file.public_id} has no bytes yet: PUT them to its upload_url first.")
    return file


def _multipart_finish(file: FileUpload, *, parts: list[tuple[int, str]], upload_id: str) -> None:
    """Put the parts together into the file's object, in order; the bytes are checked afterwards."""
    if not secrets.compare_digest(str(upload_id or ""), file.multipart_upload_id):
        raise ApplicationError("multipart_upload_id is not this file's: pass the one create returned.")
    numbers = [number for number, _ in parts]
    if sorted(numbers) != list(range(1, (file.multipart_parts or 0) + 1)):
        raise ApplicationError(
            f"Pass every part, numbered 1 to {file.multipart_parts}, each with the ETag its upload answered."
        )
    ordered = sorted(parts)
    storage = _storage()
    with transaction.atomic():
        locked = FileUpload.objects.select_for_update().get(pk=file.pk)
        if locked.status != FileUploadStatus.PENDING or storage.exists(locked.storage_name):
            return
        if storage_is_s3(storage):
            from botocore.exceptions import ClientError

            try:
                _s3_client(storage).complete_multipart_upload(
                    Bucket=storage.bucket_name,
                    Key=_s3_key(storage, locked.storage_name),
                    UploadId=locked.multipart_upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in ordered]},
                )
            except ClientError as error:
                message = error.response.get("Error", {}).get("Message") or "the parts were refused"
                raise ApplicationError(f"The parts could not be put together: {message}") from None
            return
        with SpooledTemporaryFile(max_size=2**20) as whole:
            for number, etag in ordered:
                name = _part_name(locked, number)
                if not storage.exists(name):
                    raise FileConflict(f"Part {number} has not been uploaded yet.")
                with storage.open(name, "rb") as part:
                    data = part.read()
                if not secrets.compare_digest(hashlib.md5(data).hexdigest(), etag.strip('"')):  # noqa: S324 - S3's ETag
                    raise ApplicationError(f"Part {number}'s ETag is not the one its upload answered.")
                whole.write(data)
            whole.seek(0)
            storage.save(locked.storage_name, File(whole))
        for number, _ in ordered:
            storage.delete(_part_name(locked, number))


def file_part_receive(*, file: FileUpload, part_number: int, stream) -> str:
    """One part of a multipart upload to our own part URL (the file-system backend); returns its
    ETag (the MD5 of its bytes, as S3 answers)."""
    if file.status != FileUploadStatus.PENDING or not file.multipart_upload_id:
        raise FileConflict(f"{file.public_id} is not waiting for parts.")
    if not 1 <= part_number <= (file.multipart_parts or 0):
        raise ApplicationError(f"Parts are numbered 1 to {file.multipart_parts}.")
    data = stream.read(MULTIPART_CHUNK_BYTES + 1)
    if len(data) > MULTIPART_CHUNK_BYTES:
        raise ApplicationError(f"A part is at most {MULTIPART_CHUNK_BYTES // (1024 * 1024)} MB.")
    storage = _storage()
    name = _part_name(file, part_number)
    storage.delete(name)
    storage.save(name, File(io.BytesIO(data)))
    return hashlib.md5(data).hexdigest()  # noqa: S324 - S3's ETag, not a security check


def part_for_token(*, file_id: str, part_number: int, token: str) -> FileUpload:
    if not _token_check(token, file_id=f"{file_id}.{part_number}", salt=UPLOAD_SALT, max_age=upload_url_seconds()):
        raise FileNotFound("This upload link is not valid or has expired; create the file again.")
    found = FileUpload.objects.filter(public_id=str(file_id)).first()
    if found is None:
        raise FileNotFound("This upload link is not valid or has expired; create the file again.")
    return found


def file_receive(*, file: FileUpload, stream, now: datetime | None = None) -> FileUpload:
    """The bytes of a local upload (our own upload URL), read from ``stream`` in chunks and never
    beyond the size limit, stored, then checked."""
    now = now or timezone.now()
    if file.status != FileUploadStatus.PENDING:
        raise FileConflict(f"{file.public_id} has been uploaded already; create a new file to send other bytes.")
    if file.multipart_upload_id:
        raise FileConflict(f"{file.public_id} is a multipart upload: PUT each part to its own URL.")
    max_bytes = settings.RESOLUTION["MAX_FILE_BYTES"]
    with SpooledTemporaryFile(max_size=2**20) as buffer:
        total = 0
        while True:
            chunk = stream.read(64 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                with transaction.atomic():
                    locked = FileUpload.objects.select_for_update().get(pk=file.pk)
                    _fail(locked, f"“{file.filename}” is larger than the {_max_mb()} MB limit for a file.", now=now)
                raise ApplicationError(locked.failure_reason)
            buffer.write(chunk)
        buffer.seek(0)
        with transaction.atomic():
            locked = FileUpload.objects.select_for_update().get(pk=file.pk)
            if locked.status != FileUploadStatus.PENDING or _storage().exists(locked.storage_name):
                raise FileConflict(
                    f"{file.public_id} has been uploaded already; create a new file to send other bytes."
                )
            saved_as = _storage().save(locked.storage_name, File(buffer))
            if saved_as != locked.storage_name:  # never expected: the name is the file's own
                locked.storage_name = saved_as
                locked.save(update_fields=["storage_name"])
            return _check_stored(locked, now=now)


# --- List --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilePage:
    files: list[FileUpload]
    start_cursor: str | None
    end_cursor: str | None
    has_next_page: bool
    has_previous_page: bool


def _cursor_for(file: FileUpload) -> str:
    raw = f"{file.created_at.isoformat()}|{file.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_read(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApplicationError("The cursor is not valid: pass a page_info cursor back unchanged.") from None


def _beyond(cursor: str, *, descending: bool) -> Q:
    """Rows after ``cursor`` in the listing's order."""
    moment, pk = _cursor_read(cursor)
    if descending:
        return Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk)
    return Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=pk)


def files_page(
    *,
    owner,
    file_ids: list[str] | None = None,
    direction: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> FilePage:
    """The owner's files (only ``file_ids`` when given), newest first unless ``direction`` is asc,
    one page by keyset cursors: ``first``/``after`` walk forward, ``last``/``before`` backward."""
    direction = direction or "desc"
    if direction not in ("asc", "desc"):
        raise ApplicationError("direction is asc or desc.")
    if first is not None and last is not None:
        raise ApplicationError("Pass first or last, not both.")
    for value in (first, last):
        if value is not None and not 1 <= value <= PAGE_MAX:
            raise ApplicationError(f"first and last are between 1 and {PAGE_MAX}.")
    descending = direction == "desc"
    rows = files_of(owner)
    if file_ids:
        ids = list(dict.fromkeys(str(item) for item in file_ids))
        if len(ids) > FILE_IDS_MAX:
            raise ApplicationError(f"Pass at most {FILE_IDS_MAX} file_ids at a time.")
        rows = rows.filter(public_id__in=ids)
    forward = ("-created_at", "-pk") if descending else ("created_at", "pk")
    backward = ("created_at", "pk") if descending else ("-created_at", "-pk")
    window = rows
    if after:
        window = window.filter(_beyond(after, descending=descending))
    if before:
        window = window.filter(~_beyond(before, descending=descending) & ~_at(before))
    if last is not None or (before and first is None):
        size = last or PAGE_DEFAULT
        page = list(window.order_by(*backward)[:size])[::-1]
    else:
        page = list(window.order_by(*forward)[: first or PAGE_DEFAULT])
    if not page:
        return FilePage([], None, None, False, False)
    start, end = _cursor_for(page[0]), _cursor_for(page[-1])
    has_next = rows.filter(_beyond(end, descending=descending)).exists()
    has_previous = rows.filter(_beyond(start, descending=not descending)).exists()
    return FilePage(page, start, end, has_next, has_previous)


def _at(cursor: str) -> Q:
    moment, pk = _cursor_read(cursor)
    return Q(created_at=moment, pk=pk)


# --- Attach ------------------------------------------------------------------------------------


def attachment_file_ids(items) -> list[str]:
    """The file ids in a case call's ``attachments`` as Whop's client sends them: each item
    ``{"id": "file_…"}`` or ``{"direct_upload_id": "file_…"}`` (a dict or a parsed schema)."""
    ids = []
    for item in items or []:
        get = item.get if isinstance(item, dict) else lambda key, _item=item: getattr(_item, key, None)
        file_id = get("id") or get("direct_upload_id")
        if not file_id:
            raise ApplicationError("Each attachment needs the id of a file (file_…) made with the files resource.")
        ids.append(str(file_id))
    return ids


class TakenFile(UploadedFile):
    """A file taken by id, ready to pass as one of a case service's ``files=`` (it is an uploaded
    file, read from storage) and carrying what cases.attachments.CheckedFile says of it."""

    original_name: str
    size_bytes: int
    sha256: str

    @property
    def upload(self) -> "TakenFile":
        return self

    @property
    def typed_name(self) -> str:
        from cases.attachments import typed_file_name

        return typed_file_name(self.original_name, self.content_type)


def files_take(ids, owner) -> list[TakenFile]:
    """The files ``ids`` (``file_…``) of ``owner`` (the user a credential acts as, or a Company),
    opened from storage and checked with the web forms' own check
    (cases.attachments.attachments_check), in the order given, duplicates once.

    Pass the list as ``files=`` to any case service (case_open, case_reply, case_message_post,
    answers, appeals): it checks them again and copies them into the case's evidence, so the file
    stays the owner's and may be attached again. Each item also has CheckedFile's fields
    (original_name, content_type, size_bytes, sha256, typed_name, upload).

    Refuses (ApplicationError, nothing attached) an unknown or foreign id (FileNotFound), a file
    with no bytes yet or changed since its check (FileConflict), a refused file (its reason),
    more files than one message may carry."""
    ids = [str(item) for item in (ids or []) if item]
    ids = list(dict.fromkeys(ids))
    limit = settings.RESOLUTION["MAX_FILES_PER_MESSAGE"]
    if len(ids) > limit:
        raise ApplicationError(f"You can attach at most {limit} files at a time.")
    files = [file_refresh(file_get(owner=owner, file_id=file_id)) for file_id in ids]
    taken: list[TakenFile] = []
    for file in files:
        if file.status == FileUploadStatus.PENDING:
            raise FileConflict(f"{file.public_id} has no bytes yet: PUT them to its upload_url first.")
        if file.status == FileUploadStatus.FAILED:
            raise ApplicationError(f"{file.public_id} was refused: {file.failure_reason}")
        try:
            handle = _storage().open(file.storage_name, "rb")
        except FileNotFoundError:
            raise FileConflict(f"{file.public_id} is no longer available; upload it again.") from None
        taken.append(
            TakenFile(
                file=handle, name=file.filename, content_type=file.content_type, size=_storage().size(file.storage_name)
            )
        )
    checked: list[CheckedFile] = attachments_check(taken)
    for file, item, upload in zip(files, checked, taken, strict=True):
        if item.sha256 != file.sha256:
            raise FileConflict(f"{file.public_id} changed after it was checked; upload it again as a new file.")
        upload.original_name, upload.size_bytes, upload.sha256 = item.original_name, item.size_bytes, item.sha256
    return taken


# --- Representation ----------------------------------------------------------------------------


def file_representation(file: FileUpload, *, download_url: str | None = None) -> dict:
    """Whop's File model (whop_sdk.types.File), plus our ``failure_reason``. ``download_url`` is
    the caller's signed local download URL; on S3 a presigned GET URL is made here."""
    ready = file.status == FileUploadStatus.READY
    url = None
    if ready:
        storage = _storage()
        url = storage.url(file.storage_name, expire=download_url_seconds()) if storage_is_s3(storage) else download_url
    return {
        "id": file.public_id,
        "object": "file",
        "filename": file.filename,
        "content_type": file.content_type or None,
        "size": file.size_bytes if ready else None,
        "upload_status": file.status,
        "visibility": "private",
        "removed_by_moderation": False,
        "created_at": file.created_at.isoformat().replace("+00:00", "Z"),
        "url": url,
        "blurhash": None,
        "duration_seconds": None,
        "height": None,
        "width": None,
        "waveform_url": None,
        "failure_reason": file.failure_reason or None,
    }


# --- Case evidence by signed link ----------------------------------------------------------------
# The API shows a case's files (Whop's ResolutionAttachment.url) to whoever may read the case; the
# link is signed for that one attachment and expires like a download URL.

ATTACHMENT_SALT = "uploads.attachment"


def attachment_token(attachment) -> str:
    return signing.TimestampSigner(salt=ATTACHMENT_SALT).sign(str(attachment.pk))


def attachment_for_token(*, attachment_id: int, token: str):
    from cases.models import Attachment

    if not _token_check(token, file_id=str(attachment_id), salt=ATTACHMENT_SALT, max_age=download_url_seconds()):
        raise FileNotFound("This link is not valid or has expired; read the case again for a fresh one.")
    found = Attachment.objects.filter(pk=attachment_id).first()
    if found is None:
        raise FileNotFound("This link is not valid or has expired; read the case again for a fresh one.")
    return found


def attachment_s3_url(attachment) -> str | None:
    """A presigned GET for the evidence file on S3 (sent as a download, typed from its bytes), or
    None on the file-system backend (the API's own signed route serves it then)."""
    from cases.attachments import typed_file_name

    storage = _storage()
    if not storage_is_s3(storage):
        return None
    filename = typed_file_name(attachment.original_name, attachment.content_type).replace('"', "")
    return storage.url(
        attachment.file.name,
        expire=download_url_seconds(),
        parameters={
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": attachment.content_type,
        },
    )


# --- Housekeeping ----------------------------------------------------------------------------------

STALE_AFTER = timedelta(days=1)


def _multipart_abandon(file: FileUpload, storage) -> None:
    """A multipart upload never completed: its parts are removed (S3 keeps them until aborted)."""
    if storage_is_s3(storage):
        try:
            _s3_client(storage).abort_multipart_upload(
                Bucket=storage.bucket_name, Key=_s3_key(storage, file.storage_name), UploadId=file.multipart_upload_id
            )
        except Exception:  # already gone, or the bucket's lifecycle rule aborted it
            log.info("multipart upload %s already gone", file.public_id)
        return
    for number in range(1, (file.multipart_parts or 0) + 1):
        storage.delete(_part_name(file, number))


def files_purge(*, now: datetime | None = None) -> int:
    """Forget files nobody can use any more; returns how many. A file never uploaded (its URL long
    expired) or refused goes after a day; a ready one after FILE_RETENTION_DAYS (attaching copied
    its bytes into the case's evidence, which stays)."""
    now = now or timezone.now()
    retention = timedelta(days=int(getattr(settings, "FILE_RETENTION_DAYS", 30)))
    stale = max(STALE_AFTER, timedelta(seconds=upload_url_seconds()) + timedelta(hours=1))
    gone = FileUpload.objects.filter(
        Q(status__in=[FileUploadStatus.PENDING, FileUploadStatus.FAILED], created_at__lt=now - stale)
        | Q(status=FileUploadStatus.READY, created_at__lt=now - retention)
    )
    purged = 0
    storage = _storage()
    for file in gone.iterator():
        storage.delete(file.storage_name)
        if file.multipart_upload_id and file.status == FileUploadStatus.PENDING:
            _multipart_abandon(file, storage)
        file.delete()
        purged += 1
    return purged
