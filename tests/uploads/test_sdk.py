"""Whop's official client (whop-sdk 2.6.0) drives the `files` resource on a live server: create,
PUT the bytes to upload_url, complete, retrieve, list page by page; its models parse every answer
and its typed errors come back for another owner's file and for bad input."""

import httpx
import pytest
from whop_sdk.core.api_error import ApiError
from whop_sdk.errors import BadRequestError, NotFoundError

from tests.factories import CompanyFactory
from uploads import services

from .conftest import HTML, PNG

pytestmark = [pytest.mark.urls("tests.uploads.sdk_urls"), pytest.mark.django_db(transaction=True)]


def test_the_official_client_creates_uploads_completes_and_reads_a_file(sdk, live_server, company):
    client = sdk(f"company-{company.pk}")
    created = client.files.create(filename="receipt.png", byte_size=len(PNG))
    assert created.id.startswith("file_") and created.object == "file"
    assert created.upload_status == "pending" and created.url is None
    assert created.upload_url.startswith(live_server.url)
    put = httpx.put(created.upload_url, content=PNG, headers=created.upload_headers or {})
    assert put.status_code == 200, put.text
    done = client.files.complete(created.id, multipart_parts=[], multipart_upload_id="")
    assert (done.upload_status, done.content_type, done.size) == ("ready", "image/png", len(PNG))
    again = client.files.retrieve(created.id)
    assert again.upload_status == "ready" and again.upload_url is None
    download = httpx.get(again.url)
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == 'attachment; filename="receipt.png"'
    # The file is this company's: the case calls take it by id.
    assert [item.original_name for item in services.files_take([created.id], company)] == ["receipt.png"]


def test_refused_bytes_answer_400_in_plain_words_and_the_file_reads_failed(sdk, live_server, customer):
    client = sdk(f"user-{customer.pk}")
    created = client.files.create(filename="invoice.pdf")
    put = httpx.put(created.upload_url, content=HTML)
    assert put.status_code == 400
    assert "“invoice.pdf” is not an accepted file type" in put.json()["error"]["message"]
    failed = client.files.retrieve(created.id)
    assert failed.upload_status == "failed" and failed.url is None
    assert "not an accepted file type" in failed.failure_reason  # our extra field, kept by the model


def test_an_upload_url_with_a_forged_token_is_refused(sdk, live_server, customer):
    client = sdk(f"user-{customer.pk}")
    created = client.files.create(filename="a.png")
    forged = created.upload_url.rsplit("token=", 1)[0] + "token=" + "x" * 40
    assert httpx.put(forged, content=PNG).status_code == 404
    assert client.files.retrieve(created.id).upload_status == "pending"


def test_typed_errors_for_bad_input_another_owners_file_and_a_file_without_bytes(sdk, live_server, company):
    client = sdk(f"company-{company.pk}")
    with pytest.raises(BadRequestError) as refused:
        client.files.create(filename="big.mov", byte_size=50 * 1024 * 1024)
    assert refused.value.body["error"]["code"] == "invalid_request"
    assert "10 MB limit" in refused.value.body["error"]["message"]
    other = CompanyFactory()
    theirs = sdk(f"company-{other.pk}").files.create(filename="theirs.png")
    with pytest.raises(NotFoundError):
        client.files.retrieve(theirs.id)
    mine = client.files.create(filename="later.png")
    with pytest.raises(NotFoundError):
        sdk(f"company-{other.pk}").files.complete(mine.id, multipart_parts=[], multipart_upload_id="")
    with pytest.raises(ApiError) as conflict:
        client.files.complete(mine.id, multipart_parts=[], multipart_upload_id="")
    assert conflict.value.status_code == 409
    assert "no bytes yet" in conflict.value.body["error"]["message"]


def test_the_pager_walks_every_page_of_files_newest_first(sdk, live_server, company):
    client = sdk(f"company-{company.pk}")
    made = [client.files.create(filename=f"f{i}.png").id for i in range(5)]
    CompanyFactory()
    pager = client.files.list(first=2)
    assert [file.id for file in pager] == made[::-1]
    first_page = client.files.list(first=2)
    assert first_page.response.page_info.has_next_page is True
    only = client.files.list(file_ids=[made[1], made[3]])
    assert sorted(file.id for file in only) == sorted([made[1], made[3]])


def test_a_case_file_is_read_through_a_signed_expiring_link_as_a_download(live_server, customer, payment, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import services as case_services
    from cases.models import Attachment

    from .conftest import POLYGLOT

    case_services.case_open(
        customer=customer,
        payment=payment,
        reason="not_as_described",
        description="It was not what the page promised.",
        files=[SimpleUploadedFile("proof.html", POLYGLOT)],
    )
    attachment = Attachment.objects.get()
    auth = {"Authorization": f"Bearer user-{customer.pk}"}
    url = httpx.get(f"{live_server.url}/api/v1/test/attachments/{attachment.pk}", headers=auth).json()["url"]
    got = httpx.get(url)
    assert got.status_code == 200 and got.content == POLYGLOT
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == 'attachment; filename="proof.png"'
    other = url.replace(f"/attachments/{attachment.pk}/", f"/attachments/{attachment.pk + 1}/")
    assert httpx.get(other).status_code == 404
    settings.FILE_DOWNLOAD_URL_SECONDS = 0
    import time

    time.sleep(1.1)
    assert httpx.get(url).status_code == 404


def test_openapi_documents_every_files_call_with_its_error_shape(live_server):
    schema = httpx.get(f"{live_server.url}/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/v1/files", "/api/v1/files/{file_id}", "/api/v1/files/{file_id}/complete"} <= set(paths)
    assert set(paths["/api/v1/files"]) == {"get", "post"}
    assert "404" in paths["/api/v1/files/{file_id}"]["get"]["responses"]
    assert "FileErrorOut" in schema["components"]["schemas"]


def test_a_multipart_upload_through_the_client_puts_each_part_then_completes(sdk, live_server, customer):
    from whop_sdk.files.types import CompleteFilesRequestMultipartPartsItem

    from .test_services import BIG_PNG

    client = sdk(f"user-{customer.pk}")
    created = client.files.create(filename="still.png", byte_size=len(BIG_PNG), multipart=True)
    assert created.upload_url is None and created.multipart_chunk_size == 5 * 1024 * 1024
    assert [part.part_number for part in created.multipart_upload_urls] == [1, 2]
    chunk, parts = created.multipart_chunk_size, []
    for part in created.multipart_upload_urls:
        put = httpx.put(part.url, content=BIG_PNG[(part.part_number - 1) * chunk : part.part_number * chunk])
        assert put.status_code == 200, put.text
        parts.append(CompleteFilesRequestMultipartPartsItem(part_number=part.part_number, etag=put.headers["etag"]))
    done = client.files.complete(created.id, multipart_parts=parts, multipart_upload_id=created.multipart_upload_id)
    assert (done.upload_status, done.size) == ("ready", len(BIG_PNG))
    assert httpx.get(done.url).content == BIG_PNG
