"""Evidence files: stored under generated names, served only through the access-checking view,
always as a download typed from the sniffed content, with nosniff."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Attachment, Message, Visibility

from .conftest import PNG_BYTES, pdf, stored_files

pytestmark = pytest.mark.django_db


def _download(client, attachment):
    return client.get(reverse("cases:attachment-download", args=[attachment.pk]))


def test_download_own_file_as_attachment_with_sniffed_type_and_nosniff(client, customer_a, attachment_a):
    """The customer gets their file back: a download, typed image/png, nosniff, original name."""
    client.force_login(customer_a)
    response = _download(client, attachment_a)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG_BYTES
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="kettle.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_download_type_comes_from_content_not_from_browser_claim(client, customer_a, payment_a):
    """A PDF uploaded as "image/png" under a .png name is served as application/pdf."""
    upload = pdf("looks-like.png")
    upload.content_type = "image/png"
    case = services.case_open(
        customer=customer_a, payment=payment_a, reason="not_received", description="x", files=[upload]
    )
    client.force_login(customer_a)
    response = _download(client, case.attachments.get())
    assert response["Content-Type"] == "application/pdf"


def test_download_non_ascii_name_is_encoded_in_header(client, customer_a, payment_a):
    """A name with accents and quotes reaches the browser intact (RFC 5987) and cannot break the header."""
    name = 'reçu "été".pdf'
    case = services.case_open(
        customer=customer_a, payment=payment_a, reason="not_received", description="x", files=[pdf(name)]
    )
    client.force_login(customer_a)
    disposition = _download(client, case.attachments.get())["Content-Disposition"]
    assert disposition == f"attachment; filename*=utf-8''{quote(name)}"


def test_stored_file_name_is_generated_not_the_uploaded_name(attachment_a):
    """On disk the file has a random name; the customer's name is only in the database."""
    [path] = stored_files()
    assert "kettle" not in path.name
    assert path.suffix == ".png"
    assert attachment_a.original_name == "kettle.png"


@pytest.mark.parametrize(("who", "status"), [("merchant_x", 200), ("reviewer_x", 200)])
def test_download_by_company_member_or_reviewer_allowed(client, request, attachment_a, who, status):
    """A member of the case's company and a platform reviewer may download the evidence."""
    client.force_login(request.getfixturevalue(who))
    assert _download(client, attachment_a).status_code == status


@pytest.mark.parametrize("who", ["customer_b", "merchant_y"])
def test_download_by_anyone_else_answers_404(client, request, attachment_a, who):
    """Another customer or another company's merchant gets 404, as if the file did not exist."""
    client.force_login(request.getfixturevalue(who))
    assert _download(client, attachment_a).status_code == 404


def test_download_anonymous_redirects_to_sign_in(client, attachment_a):
    """Signed-out visitors are sent to sign in first."""
    response = _download(client, attachment_a)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_download_unknown_id_answers_404(client, customer_a, attachment_a):
    """An id that does not exist answers 404 like someone else's file."""
    client.force_login(customer_a)
    response = client.get(reverse("cases:attachment-download", args=[attachment_a.pk + 1000]))
    assert response.status_code == 404


def test_download_file_on_merchant_only_message_hidden_from_customer(client, customer_a, merchant_x, case_a):
    """A file on a message only the merchant may see is not the customer's to download."""
    now = timezone.now()
    message = Message.objects.create(
        case=case_a, author_kind="reviewer", body="for the merchant", visibility=Visibility.MERCHANT, created_at=now
    )
    hidden = Attachment.objects.create(
        case=case_a,
        message=message,
        file=case_a.attachments.get().file.name,
        original_name="internal.png",
        content_type="image/png",
        size_bytes=len(PNG_BYTES),
        sha256="0" * 64,
        uploaded_by_kind="reviewer",
        created_at=now,
    )
    client.force_login(customer_a)
    assert _download(client, hidden).status_code == 404
    client.force_login(merchant_x)
    assert _download(client, hidden).status_code == 200


def test_download_missing_from_storage_answers_404(client, customer_a, attachment_a):
    """If the stored file is gone the customer gets a 404 page, not a server error."""
    attachment_a.file.storage.delete(attachment_a.file.name)
    client.force_login(customer_a)
    assert _download(client, attachment_a).status_code == 404


def test_download_refuses_post(client, customer_a, attachment_a):
    """The download address only answers GET."""
    client.force_login(customer_a)
    response = client.post(reverse("cases:attachment-download", args=[attachment_a.pk]))
    assert response.status_code == 405


def test_evidence_has_no_public_url(client, customer_a, attachment_a):
    """The file's storage path is not reachable by URL; only the download view serves it."""
    client.force_login(customer_a)
    assert client.get("/" + attachment_a.file.name).status_code == 404
    assert client.get("/media/" + attachment_a.file.name).status_code == 404
