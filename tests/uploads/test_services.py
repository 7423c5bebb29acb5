"""The files resource's rules, through its services: a file is made, its bytes are checked like a
web form's, and a case action takes it by id — only its owner's."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import Attachment, CaseEvent
from resolution_center.exceptions import ApplicationError
from tests.factories import CompanyFactory, UserFactory
from uploads import services
from uploads.models import FileUpload, FileUploadStatus

from .conftest import HTML, PDF, PNG

pytestmark = pytest.mark.django_db


def test_a_png_uploaded_becomes_ready_with_the_type_its_bytes_have(customer, uploaded):
    file = uploaded(customer, PNG, filename="photo.jpg")
    assert file.public_id.startswith("file_")
    assert file.status == FileUploadStatus.READY
    assert (file.content_type, file.size_bytes) == ("image/png", len(PNG))
    shown = services.file_representation(file, download_url="https://x/dl")
    assert shown["upload_status"] == "ready" and shown["size"] == len(PNG) and shown["url"] == "https://x/dl"


def test_a_file_whose_bytes_are_html_is_refused_with_the_web_forms_words_and_removed(customer, uploaded, settings):
    file = uploaded(customer, HTML, filename="invoice.pdf")
    assert file.status == FileUploadStatus.FAILED
    assert "“invoice.pdf” is not an accepted file type" in file.failure_reason
    assert "PDF" in file.failure_reason
    from django.core.files.storage import storages

    assert not storages["default"].exists(file.storage_name)
    assert services.file_representation(file)["url"] is None


def test_bytes_beyond_the_size_limit_are_refused_without_being_kept(customer, settings):
    settings.RESOLUTION = {**settings.RESOLUTION, "MAX_FILE_BYTES": 1024}
    file = services.file_create(owner=customer, filename="big.png")
    with pytest.raises(ApplicationError, match="larger than the"):
        services.file_receive(file=file, stream=io.BytesIO(PNG + b"\x00" * 2000))
    file.refresh_from_db()
    assert file.status == FileUploadStatus.FAILED


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"filename": "   "}, "Please give the file's name"),
        ({"filename": "a.png", "byte_size": 0}, "is empty"),
        ({"filename": "a.png", "byte_size": 11 * 1024 * 1024}, "larger than the 10 MB limit"),
        ({"filename": "a.png", "multipart": True}, "multipart upload needs the file's byte_size"),
        ({"filename": "a.png", "multipart": True, "byte_size": 5 * 1024 * 1024}, "larger than 5 MB"),
        ({"filename": "a.png", "visibility": "public"}, "always private"),
    ],
)
def test_create_refuses_what_could_never_be_attached_and_saves_nothing(customer, kwargs, words):
    with pytest.raises(ApplicationError, match=words):
        services.file_create(owner=customer, **kwargs)
    assert not FileUpload.objects.exists()


def test_bytes_other_than_announced_are_refused(customer, uploaded):
    file = uploaded(customer, PNG, byte_size=len(PNG) + 5)
    assert file.status == FileUploadStatus.FAILED
    assert "not the" in file.failure_reason


def test_the_same_upload_url_cannot_replace_bytes_already_checked(customer, uploaded):
    file = uploaded(customer, PNG)
    with pytest.raises(services.FileConflict, match="uploaded already"):
        services.file_receive(file=file, stream=io.BytesIO(HTML))


def test_the_daily_allowance_counts_files_made_by_the_owner(customer, settings):
    settings.RESOLUTION = {**settings.RESOLUTION, "MAX_UPLOAD_FILES_PER_DAY": 2}
    now = timezone.now()
    services.file_create(owner=customer, filename="a.png", now=now - timedelta(days=2))
    services.file_create(owner=customer, filename="b.png", now=now)
    services.file_create(owner=customer, filename="c.png", now=now)
    with pytest.raises(ApplicationError, match="at most 2 files in 24 hours"):
        services.file_create(owner=customer, filename="d.png", now=now)
    # Another owner has their own allowance.
    services.file_create(owner=UserFactory(), filename="e.png", now=now)


def test_a_company_and_a_customer_see_only_their_own_files(company, customer, uploaded):
    mine = uploaded(company, PNG)
    theirs = uploaded(CompanyFactory(), PNG)
    assert services.file_get(owner=company, file_id=mine.public_id) == mine
    for owner, file_id in [(company, theirs.public_id), (customer, mine.public_id), (company, "file_nope")]:
        with pytest.raises(services.FileNotFound):
            services.file_get(owner=owner, file_id=file_id)


def test_complete_checks_again_and_refuses_a_file_without_bytes(customer, uploaded):
    pending = services.file_create(owner=customer, filename="a.png")
    with pytest.raises(services.FileConflict, match="no bytes yet"):
        services.file_complete(owner=customer, file_id=pending.public_id)
    ready = uploaded(customer, PDF, filename="terms.pdf")
    assert services.file_complete(owner=customer, file_id=ready.public_id).content_type == "application/pdf"


def test_a_case_opened_with_file_ids_keeps_the_bytes_as_evidence(customer, payment, uploaded):
    png = uploaded(customer, PNG, filename="screen.png")
    pdf = uploaded(customer, PDF, filename="terms")
    taken = services.files_take([png.public_id, pdf.public_id, png.public_id], customer)
    assert [item.original_name for item in taken] == ["screen.png", "terms"]
    case = case_services.case_open(
        customer=customer,
        payment=payment,
        reason="not_as_described",
        description="It was not what the page promised.",
        files=taken,
    )
    attachments = list(Attachment.objects.filter(case=case).order_by("id"))
    assert [(a.original_name, a.content_type) for a in attachments] == [
        ("screen.png", "image/png"),
        ("terms", "application/pdf"),
    ]
    assert attachments[0].file.read() == PNG
    assert attachments[1].file.name.endswith(".pdf")
    assert CaseEvent.objects.filter(case=case, action=CaseEvent.Action.FILE).count() == 2
    # The file stays its owner's: it can be attached again.
    assert len(services.files_take([png.public_id], customer)) == 1


def test_take_refuses_foreign_pending_refused_and_too_many_files(customer, uploaded, settings):
    ready = uploaded(customer, PNG)
    foreign = uploaded(UserFactory(), PNG)
    with pytest.raises(services.FileNotFound):
        services.files_take([ready.public_id, foreign.public_id], customer)
    pending = services.file_create(owner=customer, filename="later.png")
    with pytest.raises(services.FileConflict, match="no bytes yet"):
        services.files_take([pending.public_id], customer)
    refused = uploaded(customer, HTML, filename="x.png")
    with pytest.raises(ApplicationError, match="was refused: “x.png” is not an accepted file type"):
        services.files_take([refused.public_id], customer)
    more = [uploaded(customer, PNG).public_id for _ in range(settings.RESOLUTION["MAX_FILES_PER_MESSAGE"] + 1)]
    with pytest.raises(ApplicationError, match="at most 3 files at a time"):
        services.files_take(more, customer)


def test_take_refuses_bytes_changed_after_their_check(customer, uploaded):
    file = uploaded(customer, PNG)
    from django.core.files.storage import storages

    storage = storages["default"]
    with open(storage.path(file.storage_name), "wb") as handle:
        handle.write(PNG + b"tampered")
    with pytest.raises(services.FileConflict, match="changed after it was checked"):
        services.files_take([file.public_id], customer)


def test_pages_walk_forward_and_back_by_cursor_newest_first(company):
    start = timezone.now() - timedelta(hours=1)
    made = [
        services.file_create(owner=company, filename=f"f{i}.png", now=start + timedelta(minutes=i)) for i in range(5)
    ]
    newest_first = [f.public_id for f in reversed(made)]
    first = services.files_page(owner=company, first=2)
    assert [f.public_id for f in first.files] == newest_first[:2]
    assert (first.has_next_page, first.has_previous_page) == (True, False)
    second = services.files_page(owner=company, first=2, after=first.end_cursor)
    assert [f.public_id for f in second.files] == newest_first[2:4]
    assert (second.has_next_page, second.has_previous_page) == (True, True)
    third = services.files_page(owner=company, first=2, after=second.end_cursor)
    assert [f.public_id for f in third.files] == newest_first[4:]
    assert third.has_next_page is False
    back = services.files_page(owner=company, last=2, before=third.start_cursor)
    assert [f.public_id for f in back.files] == newest_first[2:4]
    oldest_first = services.files_page(owner=company, direction="asc", first=10)
    assert [f.public_id for f in oldest_first.files] == newest_first[::-1]
    only = services.files_page(owner=company, file_ids=[made[0].public_id, "file_other"])
    assert [f.public_id for f in only.files] == [made[0].public_id]
    with pytest.raises(ApplicationError, match="cursor is not valid"):
        services.files_page(owner=company, after="garbage!")


def test_the_purge_forgets_unused_files_and_keeps_recent_and_attached_evidence(customer, uploaded, payment):
    from django.core.files.storage import storages

    storage = storages["default"]
    now = timezone.now()
    old_pending = services.file_create(owner=customer, filename="never.png", now=now - timedelta(days=2))
    old_failed = uploaded(customer, HTML)
    FileUpload.objects.filter(pk=old_failed.pk).update(created_at=now - timedelta(days=2))
    recent = uploaded(customer, PNG)
    old_ready = uploaded(customer, PNG)
    FileUpload.objects.filter(pk=old_ready.pk).update(created_at=now - timedelta(days=31))
    case = case_services.case_open(
        customer=customer,
        payment=payment,
        reason="not_as_described",
        description="It was not what the page promised.",
        files=[item.upload for item in services.files_take([old_ready.public_id], customer)],
    )
    assert services.files_purge(now=now) == 3
    assert list(FileUpload.objects.values_list("public_id", flat=True)) == [recent.public_id]
    assert not storage.exists(old_ready.storage_name) and storage.exists(recent.storage_name)
    assert Attachment.objects.get(case=case).file.read() == PNG
    assert old_pending.public_id not in services.files_page(owner=customer).files


def test_attachment_items_as_the_client_sends_them_give_file_ids():
    assert services.attachment_file_ids([{"id": "file_a"}, {"direct_upload_id": "file_b"}]) == ["file_a", "file_b"]
    with pytest.raises(ApplicationError, match="needs the id of a file"):
        services.attachment_file_ids([{}])


BIG_PNG = PNG + b"\x00" * (7 * 1024 * 1024)


def test_a_multipart_upload_is_put_together_from_its_parts_and_checked(customer):
    file = services.file_create(owner=customer, filename="video-still.png", byte_size=len(BIG_PNG), multipart=True)
    assert file.multipart_parts == 2 and file.multipart_upload_id
    with pytest.raises(services.FileConflict, match="PUT each part"):
        services.file_receive(file=file, stream=io.BytesIO(BIG_PNG))
    chunk = services.MULTIPART_CHUNK_BYTES
    etags = [
        services.file_part_receive(file=file, part_number=n, stream=io.BytesIO(BIG_PNG[(n - 1) * chunk : n * chunk]))
        for n in (1, 2)
    ]
    with pytest.raises(ApplicationError, match="not this file's"):
        services.file_complete(owner=customer, file_id=file.public_id, multipart_parts=[], multipart_upload_id="x")
    upload_id = file.multipart_upload_id
    with pytest.raises(ApplicationError, match="every part, numbered 1 to 2"):
        services.file_complete(
            owner=customer, file_id=file.public_id, multipart_parts=[(1, etags[0])], multipart_upload_id=upload_id
        )
    with pytest.raises(ApplicationError, match="Part 2's ETag"):
        services.file_complete(
            owner=customer,
            file_id=file.public_id,
            multipart_parts=[(1, etags[0]), (2, etags[0])],
            multipart_upload_id=upload_id,
        )
    done = services.file_complete(
        owner=customer,
        file_id=file.public_id,
        multipart_parts=[(2, f'"{etags[1]}"'), (1, etags[0])],
        multipart_upload_id=upload_id,
    )
    assert (done.status, done.size_bytes, done.content_type) == ("ready", len(BIG_PNG), "image/png")
    from django.core.files.storage import storages

    storage = storages["default"]
    assert storage.open(done.storage_name).read() == BIG_PNG
    assert not storage.exists(f"{done.storage_name}.part1")
