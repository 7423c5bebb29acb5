"""The files resource on S3 (django-storages), over real HTTP against a local S3 server (moto's,
checking signatures and expiry as AWS does): the official client PUTs the bytes to a presigned URL
carrying no ACL, `complete` checks them like a web form's file, and a case takes them by id."""

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest

from cases import services as case_services
from cases.models import Attachment
from resolution_center.storage import evidence_storage
from tests.security.s3_server import CheckingMotoServer
from uploads import services
from uploads.models import FileUpload

from .conftest import HTML, PNG

pytestmark = [pytest.mark.urls("tests.uploads.sdk_urls"), pytest.mark.django_db(transaction=True)]

ACCESS_KEY, SECRET_KEY = "AKIATESTUPLOADS", "uploads-test-secret"
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = CheckingMotoServer(secrets={ACCESS_KEY: SECRET_KEY}, ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    """A private bucket with ACLs disabled, the storage pointed at it as a deployment does."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    name = f"uploads-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    environment = {"AWS_STORAGE_BUCKET_NAME": name, "AWS_S3_ENDPOINT_URL": s3_endpoint, "AWS_S3_REGION_NAME": REGION}
    settings.STORAGES = {**settings.STORAGES, "default": evidence_storage(default_root=tmp_path, environ=environment)}
    s3.bucket_name = name
    return s3


def keys(bucket) -> list[str]:
    return [item["Key"] for item in bucket.list_objects_v2(Bucket=bucket.bucket_name).get("Contents", [])]


def test_a_presigned_put_lands_in_the_bucket_is_checked_and_becomes_evidence(
    sdk, live_server, bucket, s3_endpoint, customer, payment
):
    client = sdk(f"user-{customer.pk}")
    created = client.files.create(filename="screen.png")
    assert created.upload_url.startswith(s3_endpoint)
    query = parse_qs(urlsplit(created.upload_url).query)
    assert "X-Amz-Signature" in query and not any("acl" in key.lower() for key in query)
    assert client.files.retrieve(created.id).upload_status == "pending"
    put = httpx.put(created.upload_url, content=PNG, headers=created.upload_headers or {})
    assert put.status_code == 200, put.text
    # Polling, as Whop's guide says: the bytes are seen and checked.
    ready = client.files.retrieve(created.id)
    assert (ready.upload_status, ready.content_type, ready.size) == ("ready", "image/png", len(PNG))
    assert ready.url.startswith(s3_endpoint)
    assert httpx.get(ready.url).content == PNG
    case = case_services.case_open(
        customer=customer,
        payment=payment,
        reason="not_as_described",
        description="It was not what the page promised.",
        files=[item.upload for item in services.files_take([created.id], customer)],
    )
    attachment = Attachment.objects.get(case=case)
    assert attachment.file.name in keys(bucket) and attachment.file.read() == PNG


def test_bytes_that_are_not_an_accepted_type_fail_on_complete_and_leave_the_bucket(sdk, live_server, bucket, customer):
    client = sdk(f"user-{customer.pk}")
    created = client.files.create(filename="invoice.pdf")
    assert httpx.put(created.upload_url, content=HTML).status_code == 200
    done = client.files.complete(created.id, multipart_parts=[], multipart_upload_id="")
    assert done.upload_status == "failed" and "not an accepted file type" in done.failure_reason
    assert FileUpload.objects.get().storage_name not in keys(bucket)


def test_an_upload_url_past_its_time_is_refused_by_s3(sdk, live_server, bucket, customer, settings):
    settings.FILE_UPLOAD_URL_SECONDS = 1
    created = sdk(f"user-{customer.pk}").files.create(filename="late.png")
    time.sleep(2)
    refused = httpx.put(created.upload_url, content=PNG)
    assert refused.status_code == 403 and b"Request has expired" in refused.content
    assert keys(bucket) == []


def test_a_multipart_upload_goes_to_s3_part_by_part_and_is_checked_on_complete(sdk, live_server, bucket, customer):
    from whop_sdk.files.types import CompleteFilesRequestMultipartPartsItem

    from .test_services import BIG_PNG

    client = sdk(f"user-{customer.pk}")
    created = client.files.create(filename="still.png", byte_size=len(BIG_PNG), multipart=True)
    chunk, parts = created.multipart_chunk_size, []
    for part in created.multipart_upload_urls:
        assert "uploadId=" in part.url and "X-Amz-Signature" in part.url
        put = httpx.put(part.url, content=BIG_PNG[(part.part_number - 1) * chunk : part.part_number * chunk])
        assert put.status_code == 200, put.text
        parts.append(CompleteFilesRequestMultipartPartsItem(part_number=part.part_number, etag=put.headers["etag"]))
    assert client.files.retrieve(created.id).upload_status == "pending"
    done = client.files.complete(created.id, multipart_parts=parts, multipart_upload_id=created.multipart_upload_id)
    assert (done.upload_status, done.size, done.content_type) == ("ready", len(BIG_PNG), "image/png")
    assert httpx.get(done.url).content == BIG_PNG
