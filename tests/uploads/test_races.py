"""Two uploads to the same file at once (a client retrying while its first PUT is still running):
one set of bytes is kept and checked, the other is refused; never a mix, never two checks."""

import io

import pytest
from django.core.files.storage import storages

from tests.racing import race
from uploads import services
from uploads.models import FileUpload, FileUploadStatus

from .conftest import PDF, PNG

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_puts_to_one_upload_url_keep_one_and_refuse_the_other(customer):
    file = services.file_create(owner=customer, filename="proof")
    results = race(
        lambda: services.file_receive(file=FileUpload.objects.get(pk=file.pk), stream=io.BytesIO(PNG)),
        lambda: services.file_receive(file=FileUpload.objects.get(pk=file.pk), stream=io.BytesIO(PDF)),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["ok", "refused"]
    refused = next(value for kind, value in results if kind == "refused")
    assert "uploaded already" in refused.message
    file.refresh_from_db()
    assert file.status == FileUploadStatus.READY
    kept = storages["default"].open(file.storage_name).read()
    assert (kept, file.content_type) in [(PNG, "image/png"), (PDF, "application/pdf")]
    assert len(services.files_take([file.public_id], customer)) == 1
