"""Item 3: evidence on the local disk by default (outside any URL), on a private S3 bucket when
configured — tested over real HTTP against a local S3 server (moto's)."""

import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Attachment
from resolution_center.storage import evidence_storage
from tests.factories import UserFactory

from .conftest import POLYGLOT_PNG_HTML
from .s3_server import CheckingMotoServer

ACCESS_KEY, SECRET_KEY = "AKIATESTEVIDENCE", "evidence-test-secret"
REGION = "eu-west-1"


def _fetch(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(), dict(refused.headers)


@pytest.fixture(scope="module")
def s3_endpoint():
    server = CheckingMotoServer(secrets={ACCESS_KEY: SECRET_KEY}, ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    """A private bucket (public access blocked, ACLs disabled) and the evidence storage pointed at
    it through the same environment variables a deployment sets."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    environment = {
        "AWS_STORAGE_BUCKET_NAME": name,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": REGION,
    }
    settings.STORAGES = {**settings.STORAGES, "default": evidence_storage(default_root=tmp_path, environ=environment)}
    s3.bucket_name = name
    return s3


@pytest.fixture
def stored(bucket, open_case):
    """A case opened with a polyglot PNG, its file now in the bucket."""
    open_case(files=[SimpleUploadedFile("proof.png", POLYGLOT_PNG_HTML, content_type="image/png")])
    return Attachment.objects.get()


def test_evidence_default_storage_is_local_and_unserved(tmp_path):
    """Without a bucket configured, evidence goes to a folder on disk that no URL maps to: not
    under the static files, and MEDIA_URL (Django's public file URL) is left unset."""
    config = evidence_storage(default_root=tmp_path / "evidence", environ={})
    assert config["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert config["OPTIONS"]["location"] == str(tmp_path / "evidence")
    production_root = Path(
        evidence_storage(default_root=Path("/x"), environ={"EVIDENCE_ROOT": "/srv/ev"})["OPTIONS"]["location"]
    )
    assert production_root == Path("/srv/ev")
    assert django_settings.MEDIA_URL in ("", "/")
    assert not str(config["OPTIONS"]["location"]).startswith(str(django_settings.STATIC_ROOT))


def test_evidence_s3_configuration_private_no_acl_short_signed_urls():
    """With a bucket named, evidence goes to S3 with no per-object ACL, signed URLs only, valid 60
    seconds unless AWS_QUERYSTRING_EXPIRE says otherwise."""
    config = evidence_storage(default_root=Path("/unused"), environ={"AWS_STORAGE_BUCKET_NAME": "ev"})
    options = config["OPTIONS"]
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["default_acl"] is None
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] == 60
    assert options["file_overwrite"] is False


@pytest.mark.django_db
def test_s3_upload_lands_in_the_private_bucket(bucket, stored):
    """An uploaded evidence file is an object in the bucket with the exact bytes, and its only
    grant is the bucket owner's (no public or per-object ACL)."""
    obj = bucket.get_object(Bucket=bucket.bucket_name, Key=stored.file.name)
    assert obj["Body"].read() == POLYGLOT_PNG_HTML
    grants = bucket.get_object_acl(Bucket=bucket.bucket_name, Key=stored.file.name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)


@pytest.mark.django_db
def test_s3_signed_url_returns_the_bytes_unsigned_url_refused(stored):
    """The storage's URL is signed and valid for 60 seconds: fetched over HTTP it returns the file;
    the same address without the signature is refused with 403."""
    url = default_storage.url(stored.file.name)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query

    status, body, _ = _fetch(url)
    assert (status, body) == (200, POLYGLOT_PNG_HTML)

    unsigned = url.split("?", 1)[0]
    status, body, _ = _fetch(unsigned)
    assert status == 403
    assert body != POLYGLOT_PNG_HTML


@pytest.mark.django_db
def test_s3_expired_signed_url_refused(stored):
    """A signed URL handed out more than 60 seconds ago no longer works."""
    with time_machine.travel(timezone.now() - timedelta(seconds=90), tick=False):
        old_url = default_storage.url(stored.file.name)
    status, body, _ = _fetch(old_url)
    assert status == 403
    assert b"Request has expired" in body


@pytest.mark.django_db
def test_s3_signed_url_with_extended_lifetime_refused(stored):
    """Editing the URL to live longer breaks its signature: a leaked link cannot be stretched."""
    url = default_storage.url(stored.file.name)
    stretched = url.replace("X-Amz-Expires=60", "X-Amz-Expires=604800")
    assert stretched != url
    status, body, _ = _fetch(stretched)
    assert status == 403
    assert b"SignatureDoesNotMatch" in body


@pytest.mark.django_db
def test_s3_download_view_streams_after_access_check(client, stored, customer):
    """On S3 the download page still checks access first, then streams the file itself — as a PNG
    attachment with nosniff — so no signed URL ever reaches the browser; others get 404."""
    client.force_login(customer)
    response = client.get(f"/files/{stored.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == POLYGLOT_PNG_HTML

    client.force_login(UserFactory())
    assert client.get(f"/files/{stored.pk}/").status_code == 404
