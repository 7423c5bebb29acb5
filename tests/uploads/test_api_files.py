"""The files resource inside the project's API (/api/v1/files, the api app's keys and tokens): the
official client uploads a file and a case call takes it by id, as the customer and as the merchant;
a read-only key reads but never uploads; nobody else's file is ever found."""

import httpx
import pytest
from django.urls import NoReverseMatch, reverse
from whop_sdk.core.api_error import ApiError
from whop_sdk.errors import NotFoundError, UnauthorizedError

pytest.importorskip("api.v1", reason="the api app (its keys and tokens) is not on this branch yet")
try:
    reverse("api-v1:files_create")
except NoReverseMatch:  # pragma: no cover - until api/v1.py mounts the router
    pytest.skip("api/v1.py does not mount uploads.api.router at /files yet", allow_module_level=True)

from cases.models import Attachment  # noqa: E402
from tests.api.conftest import key_for, sdk_for, token_for  # noqa: E402
from tests.factories import PaymentFactory, UserFactory, case_in_state  # noqa: E402

from .conftest import HTML, PDF, PNG  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, data: bytes, filename: str) -> str:
    created = client.files.create(filename=filename)
    with httpx.Client(headers={"Connection": "close"}) as http:
        put = http.put(created.upload_url, content=data, headers=created.upload_headers or {})
    assert put.status_code == 200, put.text
    assert client.files.complete(created.id, multipart_parts=[], multipart_upload_id="").upload_status == "ready"
    return created.id


def test_a_customer_opens_a_case_with_a_file_sent_through_the_files_resource(live_server, company, customer):
    payment = PaymentFactory(company=company, customer=customer)
    client = sdk_for(live_server.url, token_for(customer))
    file_id = upload(client, PNG, "screenshot.png")
    assert [f.id for f in client.files.list()] == [file_id]
    case = client.resolution_center_cases.create(
        receipt_id=f"pay_{payment.pk}",
        reason="not_as_described",
        message="The product page promised a blue one.",
        attachments=[{"id": file_id}],
    )
    attachment = Attachment.objects.get(case_id=int(case.id.removeprefix("reso_")))
    assert (attachment.original_name, attachment.content_type, attachment.file.read()) == (
        "screenshot.png",
        "image/png",
        PNG,
    )
    events = list(client.resolution_center_cases.events(case.id))
    shown = [a for e in events for a in e.attachments]
    assert [a.filename for a in shown] == ["screenshot.png"]


def test_a_merchant_key_answers_with_a_file_and_a_refused_file_is_named(live_server):
    scene = case_in_state("open")
    client = sdk_for(live_server.url, key_for(scene.case.company, scene.merchant))
    file_id = upload(client, PDF, "shipping-label.pdf")
    reso = f"reso_{scene.case.pk}"
    client.resolution_center_cases.request_info(reso, message="Here is our label.", attachments=[{"id": file_id}])
    assert Attachment.objects.get(case=scene.case, uploaded_by=scene.merchant).content_type == "application/pdf"

    created = client.files.create(filename="label.pdf")
    with httpx.Client(headers={"Connection": "close"}) as http:
        assert http.put(created.upload_url, content=HTML).status_code == 400
    with pytest.raises(ApiError) as refused:
        client.resolution_center_cases.reply(reso, message="And this.", attachments=[{"id": created.id}])
    assert "“label.pdf” is not an accepted file type" in refused.value.body["error"]["message"]
    assert Attachment.objects.filter(case=scene.case).count() == 1  # the label only: nothing half-saved


def test_a_read_only_key_lists_but_never_uploads_and_a_stranger_never_sees_a_file(live_server):
    scene = case_in_state("open")
    reader = sdk_for(live_server.url, key_for(scene.case.company, scene.merchant, scope="read"))
    with pytest.raises(ApiError) as refused:  # the client's files calls have no typed 403
        reader.files.create(filename="a.png")
    assert (refused.value.status_code, refused.value.body["error"]["code"]) == (403, "forbidden")
    assert list(reader.files.list()) == []

    mine = sdk_for(live_server.url, token_for(scene.customer))
    file_id = upload(mine, PNG, "proof.png")
    stranger = sdk_for(live_server.url, token_for(UserFactory()))
    with pytest.raises(NotFoundError):
        stranger.files.retrieve(file_id)
    with pytest.raises(ApiError) as taken:
        stranger.resolution_center_cases.create(
            receipt_id=f"pay_{scene.case.payment_id}", reason="fraudulent", message="x", attachments=[{"id": file_id}]
        )
    assert taken.value.status_code in (404, 422)
    with pytest.raises(UnauthorizedError):
        sdk_for(live_server.url, "rck_not-a-key").files.list()
