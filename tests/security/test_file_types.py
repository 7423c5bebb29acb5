"""Issue #11, section 4: an evidence file's type is what the filetype library detects in its bytes,
checked against an allow-list of types browsers show, and the download's extension is that type's."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.attachments import attachments_check
from cases.models import Attachment, Case
from resolution_center.exceptions import ApplicationError

from .conftest import PNG_HEADER

pytestmark = pytest.mark.django_db

# Real minimal headers: an ISO media file starts with its "ftyp" box (size, "ftyp", major brand,
# minor version, compatible brands), the rest with their magic numbers.
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
HEIC_MIF1 = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf" + b"\x00" * 32
AVIF = b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miafMA1B" + b"\x00" * 32
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00" + b"\x00" * 32
THREE_GP = b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom3gp4" + b"\x00" * 32
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 32
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 32
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm" + (
    b"\x42\x87\x81\x04\x42\x85\x81\x02"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("content", "content_type", "typed_name"),
    [
        (PNG_HEADER + b"\x00" * 32, "image/png", "evidence.png"),
        (JPEG, "image/jpeg", "evidence.jpg"),
        (GIF, "image/gif", "evidence.gif"),
        (WEBP, "image/webp", "evidence.webp"),
        (PDF, "application/pdf", "evidence.pdf"),
        (MP4, "video/mp4", "evidence.mp4"),
        (WEBM, "video/webm", "evidence.webm"),
        (MOV, "video/quicktime", "evidence.mov"),
    ],
    ids=["png", "jpeg", "gif", "webp", "pdf", "mp4", "webm", "quicktime"],
)
def test_attachments_check_allowed_type_named_after_its_bytes(content, content_type, typed_name):
    """Every type on the allow-list is recognised from its real header, whatever the name says
    (here ``.bin``), stored as that type and named with that type's extension."""
    [checked] = attachments_check([_upload("evidence.bin", content)])
    assert checked.content_type == content_type
    assert checked.typed_name == typed_name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("IMG_0001.heic", HEIC),
        ("IMG_0002.heic", HEIC_MIF1),
        ("photo.avif", AVIF),
        ("voice-note.m4a", M4A),
        ("recording.3gp", THREE_GP),
        ("renamed.mp4", M4A),  # a name does not make audio a video
        ("renamed.mp4", THREE_GP),
    ],
    ids=["heic", "heic-mif1", "avif", "m4a", "3gp", "m4a-named-mp4", "3gp-named-mp4"],
)
def test_attachments_check_iso_media_not_a_browser_video_refused(name, content):
    """HEIC and AVIF photos and M4A and 3GP recordings share MP4's "ftyp" header; the home-made
    sniffing took every one of them for video/mp4. They are refused, whatever their name."""
    with pytest.raises(ApplicationError, match="is not an accepted file type"):
        attachments_check([_upload(name, content)])


def test_attachments_check_heic_photo_refused_saying_what_to_upload_instead():
    """An iPhone's HEIC photo is refused with a message that says browsers cannot show it and to
    upload a JPEG or PNG instead, not only the generic list."""
    with pytest.raises(ApplicationError) as refused:
        attachments_check([_upload("IMG_0001.HEIC", HEIC)])
    assert "HEIC photos cannot be shown in browsers; please upload a JPEG or PNG" in refused.value.message


def test_claim_with_heic_photo_refused_with_advice_and_nothing_saved(client, customer, payment):
    """Through the claim form: the HEIC photo's advice is shown next to the files and no case or
    file is saved."""
    client.force_login(customer)
    response = client.post(
        f"/orders/{payment.pk}/refund/",
        {"reason": "not_as_described", "description": "See the photo.", "files": [_upload("IMG_0001.heic", HEIC)]},
    )
    assert response.status_code == 400
    assert "HEIC photos cannot be shown in browsers; please upload a JPEG or PNG" in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "download_name", "content_type"),
    [
        ("invoice.html", GIF, "invoice.gif", "image/gif"),
        ("statement.pdf.exe", PDF, "statement.pdf.pdf", "application/pdf"),
        ("clip", MP4, "clip.mp4", "video/mp4"),
        ("Photo.JPEG", JPEG, "Photo.jpg", "image/jpeg"),
    ],
    ids=["gif-named-html", "pdf-named-exe", "mp4-without-extension", "jpeg-upper-case"],
)
def test_download_name_extension_follows_detected_type_not_uploaders_name(
    client, customer, payment, name, content, download_name, content_type
):
    """A file downloads with the extension of the type its bytes are: ``invoice.html`` that is
    really a GIF downloads as ``invoice.gif``, so a saved download never opens as a web page or a
    program. The timeline keeps the name the uploader gave; the stored file has the typed one."""
    client.force_login(customer)
    response = client.post(
        f"/orders/{payment.pk}/refund/",
        {"reason": "not_as_described", "description": "See the file.", "files": [_upload(name, content)]},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.original_name == name
    assert attachment.file.name.endswith("." + download_name.rsplit(".", 1)[1].lower())

    download = client.get(f"/files/{attachment.pk}/")

    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"] == f'attachment; filename="{download_name}"'
