"""Item 3: evidence on the local disk by default (outside any URL), on a private S3 bucket when
configured — tested over real HTTP against a local S3 server (moto's)."""

import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Attachment
from resolution_center.storage import evidence_storage
from tests.factories import CompanyFactory, UserFactory, merchant_of

from .conftest import PNG_HEADER, POLYGLOT_PNG_HTML
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


def _case_pages(case) -> dict[str, str]:
    """Every page that lists the case's files, for the people who may see each one."""
    return {
        "customer": reverse("cases:case-detail", args=[case.pk]),
        "merchant": reverse("merchant:case", args=[case.company_id, case.pk]),
        "reviewer_user": reverse("admin:cases_case_change", args=[case.pk]),
    }


@pytest.mark.django_db
def test_s3_object_fetched_without_credentials_refused(bucket, stored):
    """The file's own address in the bucket, fetched by someone without the platform's keys (a
    guessed or leaked address), is refused with 403 and none of the file's bytes."""
    address = f"{bucket.meta.endpoint_url}/{bucket.bucket_name}/{stored.file.name}"
    status, body, _ = _fetch(address)
    assert status == 403
    assert PNG_HEADER not in body


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["customer", "merchant", "reviewer_user"])
def test_s3_download_view_for_party_returns_exact_bytes_as_attachment(request, client, stored, who):
    """On S3, the case's customer, a member of its company and a reviewer each get the file from
    /files/<id>/ with its exact bytes, as a download under its original name (never inline), typed
    from the sniffed content, with nosniff, a sandboxing CSP and no caching."""
    client.force_login(request.getfixturevalue(who))

    response = client.get(reverse("cases:attachment-download", args=[stored.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == POLYGLOT_PNG_HTML
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="proof.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert "Location" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_customer", "other_merchant"])
def test_s3_download_view_for_stranger_is_404_without_bytes(client, stored, who):
    """Another customer, or a merchant of another company, asking for the file gets a plain 404
    with none of its bytes — the same answer as for a file that does not exist."""
    stranger = UserFactory() if who == "other_customer" else merchant_of(CompanyFactory())
    client.force_login(stranger)

    response = client.get(reverse("cases:attachment-download", args=[stored.pk]))
    missing = client.get(reverse("cases:attachment-download", args=[stored.pk + 1000]))

    assert (response.status_code, missing.status_code) == (404, 404)
    assert PNG_HEADER not in response.content


@pytest.mark.django_db
def test_s3_download_view_signed_out_redirects_to_sign_in(client, stored):
    """Someone not signed in is sent to the sign-in page and gets none of the file."""
    url = reverse("cases:attachment-download", args=[stored.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
def test_s3_download_view_object_gone_from_bucket_is_404(client, bucket, stored, customer):
    """If the object has disappeared from the bucket, the customer gets a 404 saying the file is
    no longer available, not a server error."""
    bucket.delete_object(Bucket=bucket.bucket_name, Key=stored.file.name)
    client.force_login(customer)

    response = client.get(reverse("cases:attachment-download", args=[stored.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["customer", "merchant", "reviewer_user"])
def test_s3_case_page_for_party_links_download_view_never_bucket(request, client, s3_endpoint, bucket, stored, who):
    """The case page each party sees links the file to /files/<id>/ and nowhere else: its HTML
    holds no address of the S3 server or the bucket, no object key and no signature."""
    client.force_login(request.getfixturevalue(who))

    response = client.get(_case_pages(stored.case)[who])
    html = response.content.decode()

    assert response.status_code == 200
    assert f'href="/files/{stored.pk}/"' in html
    assert "proof.png" in html
    host_and_port = urlsplit(s3_endpoint).netloc
    for leak in (host_and_port, bucket.bucket_name, stored.file.name, "X-Amz-", "Signature=", "amazonaws"):
        assert leak not in html, leak
