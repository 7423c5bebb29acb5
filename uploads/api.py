"""The `files` resource of Whop's API (whop_sdk.files) as a django-ninja Router; the project's
NinjaAPI mounts it with ``api.add_router("/files", router)`` and authenticates every call but the
two signed-link ones (the local upload PUT and download GET, which carry their own token).

The flow the SDK uses: ``create`` -> PUT the bytes to ``upload_url`` -> ``complete`` (or
``retrieve`` until ``upload_status`` is ``ready``) -> pass the ``file_…`` id as an attachment.
"""

from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema, Status

from cases.attachments import typed_file_name
from payments.models import Company
from resolution_center.exceptions import ApplicationError

from . import services
from .models import FileUpload, FileUploadStatus


class FileErrorDetail(Schema):
    code: str
    message: str


class FileErrorOut(Schema):
    error: FileErrorDetail


class FileOut(Schema):
    id: str
    object: str
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    upload_status: str
    visibility: str
    removed_by_moderation: bool
    created_at: str
    url: str | None = None
    upload_url: str | None = None
    upload_headers: dict[str, str] | None = None
    multipart_chunk_size: int | None = None
    multipart_upload_id: str | None = None
    multipart_upload_urls: list[dict] | None = None
    blurhash: str | None = None
    duration_seconds: float | None = None
    height: int | None = None
    width: int | None = None
    waveform_url: str | None = None
    failure_reason: str | None = None


class FilePageInfoOut(Schema):
    start_cursor: str | None = None
    end_cursor: str | None = None
    has_next_page: bool
    has_previous_page: bool


class FileListOut(Schema):
    data: list[FileOut]
    page_info: FilePageInfoOut


class FileCreateIn(Schema):
    filename: str
    byte_size: int | None = None
    multipart: bool | None = None
    visibility: str | None = None


class MultipartPartIn(Schema):
    etag: str
    part_number: int


class FileCompleteIn(Schema):
    multipart_parts: list[MultipartPartIn] = []
    multipart_upload_id: str = ""


class FileListQuery(Schema):
    file_ids: list[str] | None = None
    order: str | None = None
    direction: str | None = None
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


ERRORS = {400: FileErrorOut, 401: FileErrorOut, 403: FileErrorOut, 404: FileErrorOut, 409: FileErrorOut}


def request_owner(request: HttpRequest):
    """Whose files these are, from what the API's authentication put on ``request.auth``: the
    person the credential acts as (api.credentials.Caller.user: a company key's maker, or a personal
    token's customer) — the same owner the case calls pass to services.files_take — or a Company or
    a user given directly."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, Company | get_user_model()):
        return auth
    owner = getattr(auth, "files_owner", None)
    if owner is not None:
        return owner() if callable(owner) else owner
    company = getattr(auth, "company", None)
    if isinstance(company, Company):
        return company
    user = getattr(auth, "user", None)
    if isinstance(user, get_user_model()):
        return user
    raise services.FileNotFound("There is no such file.")


class ReadOnlyCredential(ApplicationError):
    """A read-only API key may list and read files, not make them."""


def require_write(request: HttpRequest) -> None:
    if not getattr(getattr(request, "auth", None), "can_write", True):
        raise ReadOnlyCredential(
            "This API key is read-only; make a read-and-write key on the Developers page to upload files."
        )


def _error(error: ApplicationError):
    if isinstance(error, ReadOnlyCredential):
        return Status(403, {"error": {"code": "forbidden", "message": error.message}})
    if isinstance(error, services.FileNotFound):
        return Status(404, {"error": {"code": "not_found", "message": error.message}})
    if isinstance(error, services.FileConflict):
        return Status(409, {"error": {"code": "conflict", "message": error.message}})
    return Status(400, {"error": {"code": "invalid_request", "message": error.message}})


def _route(request: HttpRequest, name: str, file: FileUpload) -> str:
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    path = reverse(f"{namespace}:{name}" if namespace else name, kwargs={"file_id": file.public_id})
    return request.build_absolute_uri(path)


def _part_route(request: HttpRequest, file: FileUpload, number: int) -> str:
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    name = "files_upload_part"
    path = reverse(
        f"{namespace}:{name}" if namespace else name, kwargs={"file_id": file.public_id, "part_number": number}
    )
    return request.build_absolute_uri(path)


def _out(request: HttpRequest, file: FileUpload) -> dict:
    download = None
    if file.status == FileUploadStatus.READY and not services.storage_is_s3():
        download = f"{_route(request, 'files_download', file)}?token={services.download_token(file)}"
    return services.file_representation(file, download_url=download)


def attachment_url(request: HttpRequest, attachment) -> str:
    """A signed, expiring download link for a case's evidence file (cases.models.Attachment), for
    Whop's ResolutionAttachment.url: a presigned S3 GET, or this router's own signed route. Call it
    from an operation of the same NinjaAPI (the route is found in the request's URL namespace), and
    only for an attachment the caller may read: the link itself is the permission."""
    s3_url = services.attachment_s3_url(attachment)
    if s3_url:
        return s3_url
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    name = "files_attachment_download"
    path = reverse(f"{namespace}:{name}" if namespace else name, kwargs={"attachment_id": attachment.pk})
    return f"{request.build_absolute_uri(path)}?token={services.attachment_token(attachment)}"


def _download(handle, *, filename: str, content_type: str) -> FileResponse:
    """Always a download (never shown inline), typed from the bytes, never sniffed or cached."""
    response = FileResponse(
        handle, as_attachment=True, filename=typed_file_name(filename, content_type), content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def files_router() -> Router:
    """A new Router with every `files` operation (each NinjaAPI needs a Router of its own)."""
    router = Router(tags=["files"])

    @router.get("", response={200: FileListOut, **ERRORS}, summary="List files", url_name="files_list")
    def files_list(request, query: Query[FileListQuery]):
        try:
            page = services.files_page(
                owner=request_owner(request),
                file_ids=query.file_ids,
                direction=query.direction,
                first=query.first,
                after=query.after,
                last=query.last,
                before=query.before,
            )
        except ApplicationError as error:
            return _error(error)
        return Status(
            200,
            {
                "data": [_out(request, services.file_refresh(file)) for file in page.files],
                "page_info": {
                    "start_cursor": page.start_cursor,
                    "end_cursor": page.end_cursor,
                    "has_next_page": page.has_next_page,
                    "has_previous_page": page.has_previous_page,
                },
            },
        )

    @router.post("", response={200: FileOut, **ERRORS}, summary="Create file", url_name="files_create")
    def files_create(request, payload: FileCreateIn):
        try:
            require_write(request)
            file = services.file_create(
                owner=request_owner(request),
                filename=payload.filename,
                byte_size=payload.byte_size,
                multipart=payload.multipart,
                visibility=payload.visibility,
            )
        except ApplicationError as error:
            return _error(error)
        target = services.upload_target(
            file,
            local_url=_route(request, "files_upload", file),
            local_part_url=lambda number: _part_route(request, file, number),
        )
        created = {**_out(request, file), "upload_url": target.url, "upload_headers": target.headers}
        if target.part_urls is not None:
            created |= {
                "multipart_upload_id": file.multipart_upload_id,
                "multipart_chunk_size": services.MULTIPART_CHUNK_BYTES,
                "multipart_upload_urls": target.part_urls,
            }
        return Status(200, created)

    @router.get("/{file_id}", response={200: FileOut, **ERRORS}, summary="Retrieve file", url_name="files_retrieve")
    def files_retrieve(request, file_id: str):
        try:
            file = services.file_refresh(services.file_get(owner=request_owner(request), file_id=file_id))
        except ApplicationError as error:
            return _error(error)
        return Status(200, _out(request, file))

    @router.post(
        "/{file_id}/complete",
        response={200: FileOut, **ERRORS},
        summary="Complete file upload",
        url_name="files_complete",
    )
    def files_complete(request, file_id: str, payload: FileCompleteIn | None = None):
        """Puts a multipart upload's parts together (``multipart_parts`` with each part's ETag, the
        ``multipart_upload_id`` create returned), then checks the bytes (type from the bytes, size
        limit). For a single-part upload the multipart fields may be left empty."""
        try:
            require_write(request)
            parts = [(part.part_number, part.etag) for part in (payload.multipart_parts if payload else [])]
            file = services.file_complete(
                owner=request_owner(request),
                file_id=file_id,
                multipart_parts=parts,
                multipart_upload_id=payload.multipart_upload_id if payload else "",
            )
        except ApplicationError as error:
            return _error(error)
        return Status(200, _out(request, file))

    @router.put(
        "/{file_id}/upload",
        auth=None,
        response={200: FileOut, 400: FileErrorOut, 404: FileErrorOut, 409: FileErrorOut},
        summary="Upload a file's bytes (the upload_url of the file-system backend)",
        url_name="files_upload",
    )
    def files_upload(request, file_id: str, token: str = ""):
        """The raw bytes as the request body, to the signed ``upload_url`` that ``create`` returned."""
        try:
            file = services.file_for_token(file_id=file_id, token=token)
            file = services.file_receive(file=file, stream=request)
        except ApplicationError as error:
            return _error(error)
        if file.status == FileUploadStatus.FAILED:
            return Status(400, {"error": {"code": "invalid_file", "message": file.failure_reason}})
        return Status(200, _out(request, file))

    @router.put(
        "/{file_id}/parts/{part_number}",
        auth=None,
        response={200: None, 400: FileErrorOut, 404: FileErrorOut, 409: FileErrorOut},
        summary="Upload one part of a multipart file (its multipart_upload_urls on the file-system backend)",
        url_name="files_upload_part",
    )
    def files_upload_part(request, file_id: str, part_number: int, token: str = ""):
        """The part's raw bytes as the request body; answers its ETag, as S3 does."""
        try:
            file = services.part_for_token(file_id=file_id, part_number=part_number, token=token)
            etag = services.file_part_receive(file=file, part_number=part_number, stream=request)
        except ApplicationError as error:
            return _error(error)
        response = HttpResponse(status=200)
        response["ETag"] = f'"{etag}"'
        return response

    @router.get(
        "/{file_id}/download",
        auth=None,
        response={404: FileErrorOut},
        summary="Download a file (the signed url of the file-system backend)",
        url_name="files_download",
    )
    def files_download(request, file_id: str, token: str = ""):
        try:
            file = services.file_for_token(file_id=file_id, token=token, download=True)
        except ApplicationError as error:
            return _error(error)
        if file.status != FileUploadStatus.READY:
            return Status(404, {"error": {"code": "not_found", "message": "This file is not available."}})
        return _download(
            storages["default"].open(file.storage_name, "rb"), filename=file.filename, content_type=file.content_type
        )

    @router.get(
        "/attachments/{attachment_id}/download",
        auth=None,
        response={404: FileErrorOut},
        summary="Download a case's evidence file (the signed url of a case's attachment)",
        url_name="files_attachment_download",
    )
    def attachment_download(request, attachment_id: int, token: str = ""):
        try:
            attachment = services.attachment_for_token(attachment_id=attachment_id, token=token)
            handle = attachment.file.open("rb")
        except ApplicationError as error:
            return _error(error)
        except FileNotFoundError:
            return Status(404, {"error": {"code": "not_found", "message": "This file is no longer available."}})
        return _download(handle, filename=attachment.original_name, content_type=attachment.content_type)

    return router


router = files_router()
