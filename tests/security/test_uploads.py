"""Item 4: oversized requests refused unread, types from content, a per-person allowance, and
the original file name sent back safely."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from cases.models import Attachment, Case, Message
from resolution_center.exceptions import ApplicationError

from .conftest import POLYGLOT_PNG_HTML, png_file

pytestmark = pytest.mark.django_db


class BodyMustNotBeRead:
    """A request body that fails the test if anything reads it."""

    def read(self, *args, **kwargs):
        raise AssertionError("the request body was read")

    readline = read


def _stored_files() -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()]


def test_request_body_over_limit_refused_413_unread(client, customer, payment):
    """A request declaring more than REQUEST_BODY_MAX_BYTES gets 413 and a page that says why;
    the body is never read (reading it would fail this test) and nothing is saved."""
    client.force_login(customer)
    response = client.generic(
        "POST",
        f"/orders/{payment.pk}/refund/",
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(settings.REQUEST_BODY_MAX_BYTES + 1),
        **{"wsgi.input": BodyMustNotBeRead()},
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Case.objects.exists()


def test_request_body_limit_leaves_room_for_a_full_message():
    """The limit admits a message with its full quota of maximum-size files, so no legitimate
    upload meets the 413; the non-file part and in-memory buffering stay small."""
    rules = settings.RESOLUTION
    assert rules["MAX_FILES_PER_MESSAGE"] * rules["MAX_FILE_BYTES"] < settings.REQUEST_BODY_MAX_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2**20
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2**20


def test_polyglot_png_html_downloaded_as_png_attachment_never_html(client, customer, payment):
    """A file that starts as a PNG and continues as HTML is accepted as an image, and the download
    says image/png, attachment, nosniff: no browser renders it as a page."""
    client.force_login(customer)
    upload = SimpleUploadedFile("cat.html", POLYGLOT_PNG_HTML, content_type="text/html")
    response = client.post(
        f"/orders/{payment.pk}/refund/",
        {"reason": "not_as_described", "description": "See the photo.", "files": [upload]},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()

    download = client.get(f"/files/{attachment.pk}/")

    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "text/html" not in download["Content-Type"]
    assert b"".join(download.streaming_content) == POLYGLOT_PNG_HTML


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),  # Windows .exe
        ("photo.png", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64),  # Linux executable
        ("receipt.jpg", b"#!/bin/sh\nrm -rf ~\n"),  # a script
    ],
)
def test_renamed_executable_refused_nothing_saved(client, customer, payment, name, content):
    """An executable renamed to look like evidence is refused with a clear reason; no case, no
    message and no file are left behind."""
    client.force_login(customer)
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client.post(
        f"/orders/{payment.pk}/refund/",
        {"reason": "not_as_described", "description": "See the file.", "files": [upload]},
    )
    assert response.status_code == 400
    assert "is not an accepted file type" in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert _stored_files() == []


def test_upload_files_per_day_cap_refused_with_clear_message(settings, open_case, customer):
    """Past MAX_UPLOAD_FILES_PER_DAY files in 24 hours, more files are refused with how many are
    left, and the message they came with is not saved either; a day later they are welcome."""
    settings.RESOLUTION = {**settings.RESOLUTION, "MAX_UPLOAD_FILES_PER_DAY": 4}
    now = timezone.now()
    case = open_case(files=[png_file("a.png"), png_file("b.png"), png_file("c.png")], now=now)
    messages_before = Message.objects.count()

    with pytest.raises(ApplicationError, match="at most 4 files in 24 hours and have 1 left"):
        services.case_message_post(
            case=case, actor=customer, body="Two more", files=[png_file("d.png"), png_file("e.png")], now=now
        )
    assert Message.objects.count() == messages_before
    assert Attachment.objects.count() == 3

    services.case_message_post(case=case, actor=customer, body="One more", files=[png_file("d.png")], now=now)
    later = now + timedelta(hours=24, seconds=1)
    services.case_message_post(
        case=case, actor=customer, body="Next day", files=[png_file("f.png"), png_file("g.png")], now=later
    )
    assert Attachment.objects.count() == 6


def test_upload_bytes_per_day_cap_refused_with_clear_message(settings, open_case, customer):
    """Past MAX_UPLOAD_BYTES_PER_DAY bytes in 24 hours, a file that would exceed it is refused."""
    settings.RESOLUTION = {**settings.RESOLUTION, "MAX_UPLOAD_BYTES_PER_DAY": 1024 * 1024}
    now = timezone.now()
    case = open_case(files=[png_file("big.png", b"\x00" * 700_000)], now=now)

    with pytest.raises(ApplicationError, match=r"at most 1 MB of files in 24 hours and have 0\.3 MB left"):
        services.case_message_post(
            case=case, actor=customer, body="Another", files=[png_file("big2.png", b"\x00" * 700_000)], now=now
        )
    assert Attachment.objects.count() == 1
    assert len(_stored_files()) == 1


def test_upload_cap_is_per_person(settings, open_case, merchant):
    """The customer's uploads do not use up the merchant's allowance on the same case."""
    settings.RESOLUTION = {**settings.RESOLUTION, "MAX_UPLOAD_FILES_PER_DAY": 3}
    case = open_case(files=[png_file("a.png"), png_file("b.png"), png_file("c.png")])
    services.case_message_post(case=case, actor=merchant, body="Our photos", files=[png_file("m.png")])
    assert Attachment.objects.filter(uploaded_by=merchant).count() == 1


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ('résumé "final";.png', "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20%22final%22%3B.png"),
        ('report "v2".png', 'attachment; filename="report \\"v2\\".png"'),
        ("two\r\nSet-Cookie: x=1.png", 'attachment; filename="twoSet-Cookie: x=1.png"'),
        ("\u202egnp.exe", 'attachment; filename="gnp.png"'),  # a PNG: the extension follows the bytes
    ],
)
def test_original_name_safely_encoded_in_content_disposition(client, open_case, customer, name, header):
    """The name the customer gave the file comes back in Content-Disposition quoted or
    percent-encoded, with control and direction-override characters removed: it can neither break
    out of the header nor disguise its extension."""
    open_case(files=[png_file(name)])
    client.force_login(customer)
    download = client.get(f"/files/{Attachment.objects.get().pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == header
    assert "Set-Cookie" not in download.headers
