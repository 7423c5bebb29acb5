"""Where evidence files live, read from the environment.

By default: the local file system under EVIDENCE_ROOT, which no URL serves — files leave only
through the access-checked download view. With AWS_STORAGE_BUCKET_NAME set: a private S3 bucket
through django-storages, with ACLs left alone (the bucket enforces owner-only objects) and every
URL it hands out signed and valid for AWS_QUERYSTRING_EXPIRE seconds.

Credentials are not settings: boto3 finds them itself (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
in the environment, or the machine's instance role), so no secret sits in the settings module.
"""

import os
from collections.abc import Mapping
from pathlib import Path

S3_BACKEND = "storages.backends.s3.S3Storage"
FILE_SYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
DEFAULT_SIGNED_URL_SECONDS = 60


def evidence_storage(*, default_root: Path, environ: Mapping[str, str] = os.environ) -> dict:
    """The STORAGES["default"] entry for evidence files."""
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if not bucket:
        location = environ.get("EVIDENCE_ROOT") or str(default_root)
        return {"BACKEND": FILE_SYSTEM_BACKEND, "OPTIONS": {"location": location}}
    options = {
        "bucket_name": bucket,
        # Never set a per-object ACL: the bucket is private with ACLs disabled ("bucket owner
        # enforced"), and an upload carrying an ACL would be refused there.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": int(environ.get("AWS_QUERYSTRING_EXPIRE") or DEFAULT_SIGNED_URL_SECONDS),
        # Generated names are unique already; never silently replace an existing object.
        "file_overwrite": False,
        "signature_version": "s3v4",
        "location": environ.get("AWS_LOCATION", "").strip("/"),
        # Browsers and proxies must not keep a copy of someone's evidence.
        "object_parameters": {"CacheControl": "private, no-store"},
    }
    if environ.get("AWS_S3_REGION_NAME"):
        options["region_name"] = environ["AWS_S3_REGION_NAME"]
    if environ.get("AWS_S3_ENDPOINT_URL"):
        # An S3-compatible service (MinIO, Ceph, a test server) rather than AWS itself.
        options["endpoint_url"] = environ["AWS_S3_ENDPOINT_URL"]
        options["addressing_style"] = environ.get("AWS_S3_ADDRESSING_STYLE") or "path"
    elif environ.get("AWS_S3_ADDRESSING_STYLE"):
        options["addressing_style"] = environ["AWS_S3_ADDRESSING_STYLE"]
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
