"""Files sent through the API's `files` resource (create -> upload -> complete), before a case
action attaches them. The bytes wait in storage under ``storage_name`` until then; attaching copies
them into the case's evidence (cases.services.messages.files_store) like a web form's file."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class FileUploadStatus(models.TextChoices):
    # Whop's `upload_status` vocabulary (whop_sdk.types.file_upload_status); we never use "processing".
    PENDING = "pending", "Waiting for its bytes"
    READY = "ready", "Ready to attach"
    FAILED = "failed", "Refused"


class FileUpload(models.Model):
    """One file made through the API. It belongs to exactly one owner: the company whose API key
    made it, or the customer whose personal token did; only that owner may see or attach it."""

    public_id = models.CharField(max_length=40, unique=True)
    company = models.ForeignKey("payments.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    declared_size = models.PositiveBigIntegerField(null=True, blank=True)
    storage_name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=FileUploadStatus.choices, default=FileUploadStatus.PENDING)
    # Known once the bytes have been checked (the type from the bytes, as for the web forms).
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=400, blank=True)
    # A multipart upload (Whop's multipart: true): its id (S3's UploadId, or ours on the file
    # system) and how many parts of MULTIPART_CHUNK_BYTES it takes; blank for a single PUT.
    multipart_upload_id = models.CharField(max_length=300, blank=True)
    multipart_parts = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, user__isnull=True) | Q(company__isnull=True, user__isnull=False),
                name="fileupload_one_owner",
            )
        ]
        indexes = [
            models.Index(fields=["company", "created_at", "id"], name="fileupload_company_created"),
            models.Index(fields=["user", "created_at", "id"], name="fileupload_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.filename})"
