"""The claim form: a customer asks for a refund of one payment, with up to 3 files.

Every refusal shows its reason on the page with a 4xx, keeps what was typed, and saves nothing:
no case, no message, no attachment row, no file in storage.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from cases.models import Case, CaseStatus
from payments.models import Refund
from tests.factories import PaymentFactory

from .conftest import png, renamed_executable, row_counts, stored_files

pytestmark = pytest.mark.django_db

NOTHING = {"cases": 0, "messages": 0, "attachments": 0, "files": 0}


def _claim_url(payment):
    return reverse("cases:case-open", args=[payment.pk])


def _post(client, payment, **data):
    payload = {"reason": "not_received", "description": "It never arrived."}
    payload.update(data)
    return client.post(_claim_url(payment), payload)


def test_claim_form_shows_reasons_description_and_files(client, customer_a, payment_a):
    """The form offers the five reasons, a description and a multi-file input."""
    client.force_login(customer_a)
    html = client.get(_claim_url(payment_a)).content.decode()
    for label in ["Forgot to cancel", "Item not received", "Not as described", "Unauthorized payment", "Poor quality"]:
        assert label in html
    assert 'name="description"' in html
    assert 'type="file" name="files"' in html and "multiple" in html
    assert 'enctype="multipart/form-data"' in html


def test_claim_with_file_opens_case_and_shows_case_page(client, customer_a, payment_a, merchant_x):
    """A valid claim opens the case with its file and redirects to the case page (post/redirect/get)."""
    client.force_login(customer_a)
    response = _post(client, payment_a, files=[png("scratch.png")])
    case = Case.objects.get(payment=payment_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case-detail", args=[case.pk])
    assert case.status == CaseStatus.OPEN
    assert case.attachments.get().original_name == "scratch.png"
    assert len(stored_files()) == 1
    page = client.get(response["Location"]).content.decode()
    assert "Company X has your refund request and 7 days to answer it." in page
    assert "scratch.png" in page


def test_claim_empty_fields_answer_400_with_messages(client, customer_a, payment_a):
    """Without a reason and a description the form comes back 400 saying what is missing."""
    client.force_login(customer_a)
    response = client.post(_claim_url(payment_a), {"reason": "", "description": "   "})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please pick the reason that fits best." in html
    assert "Please describe the problem." in html
    assert row_counts() == NOTHING


def test_claim_fourth_file_refused_and_typed_text_kept(client, customer_a, payment_a):
    """Four files are one too many: 400, the message on the page, the description kept, nothing saved."""
    client.force_login(customer_a)
    files = [png(f"photo{i}.png") for i in range(4)]
    response = _post(client, payment_a, reason="poor_quality", description="Cracked lid, see photos.", files=files)
    html = response.content.decode()
    assert response.status_code == 400
    assert "You can attach at most 3 files at a time." in html
    assert "Cracked lid, see photos.</textarea>" in html
    assert re.search(r'<input type="radio" name="reason" value="poor_quality"[^>]* checked>', html)
    assert "please choose them again" in html
    assert row_counts() == NOTHING


def test_claim_file_over_the_size_limit_refused(client, customer_a, payment_a, settings):
    """A file one byte over the limit is refused by name, and nothing is saved."""
    limit = settings.RESOLUTION["MAX_FILE_BYTES"]
    client.force_login(customer_a)
    response = _post(client, payment_a, files=[png("huge.png", size=limit + 1)])
    assert response.status_code == 400
    assert "“huge.png” is larger than the 10 MB limit for a file." in response.content.decode()
    assert row_counts() == NOTHING


def test_claim_renamed_executable_refused(client, customer_a, payment_a):
    """An executable named photo.png is recognised from its bytes and refused."""
    client.force_login(customer_a)
    response = _post(client, payment_a, files=[png("ok.png"), renamed_executable("photo.png")])
    assert response.status_code == 400
    assert "“photo.png” is not an accepted file type." in response.content.decode()
    assert row_counts() == NOTHING


def test_claim_other_customers_payment_answers_404(client, customer_b, payment_a):
    """Another customer's payment id answers 404 on GET and POST; no case appears."""
    client.force_login(customer_b)
    assert client.get(_claim_url(payment_a)).status_code == 404
    assert _post(client, payment_a).status_code == 404
    assert row_counts() == NOTHING


def test_claim_ineligible_payment_shows_reason_without_form(client, customer_a, company_x):
    """A crypto payment's claim page explains why, with no form; a POST anyway answers 409."""
    crypto = PaymentFactory(customer=customer_a, company=company_x, method="crypto")
    client.force_login(customer_a)
    page = client.get(_claim_url(crypto))
    assert page.status_code == 200
    assert "Crypto payments (Coinbase Commerce) are irreversible" in page.content.decode()
    assert 'name="description"' not in page.content.decode()
    response = _post(client, crypto)
    assert response.status_code == 409
    assert "Crypto payments (Coinbase Commerce) are irreversible" in response.content.decode()
    assert row_counts() == NOTHING


def test_claim_sent_twice_from_same_form_opens_one_case(client, customer_a, payment_a):
    """A double click sends the same form twice: one case, and the second lands on it too."""
    client.force_login(customer_a)
    token = "a" * 32
    first = _post(client, payment_a, submission_token=token, files=[png()])
    second = _post(client, payment_a, submission_token=token, files=[png()])
    case = Case.objects.get(payment=payment_a)
    assert first["Location"] == second["Location"] == reverse("cases:case-detail", args=[case.pk])
    assert row_counts() == {"cases": 1, "messages": 1, "attachments": 1, "files": 1}


def test_claim_posted_after_case_exists_answers_409(client, customer_a, payment_a, case_a):
    """A second claim form (another tab) for a payment that has a case answers 409 and adds nothing."""
    client.force_login(customer_a)
    before = row_counts()
    response = _post(client, payment_a, submission_token="b" * 32, files=[png()])
    html = response.content.decode()
    assert response.status_code == 409
    assert "A case has already been opened for this payment" in html
    assert reverse("cases:case-detail", args=[case_a.pk]) in html
    assert row_counts() == before


def test_claim_page_for_payment_with_case_redirects_to_case(client, customer_a, payment_a, case_a):
    """Opening the claim page of a payment that has a case goes to that case."""
    client.force_login(customer_a)
    response = client.get(_claim_url(payment_a))
    assert response["Location"] == reverse("cases:case-detail", args=[case_a.pk])


def test_claim_under_auto_refund_threshold_is_refunded_with_company_message(client, customer_a, company_x):
    """Under the company's auto-refund threshold the claim is refunded at once and its message shown."""
    company_x.auto_refund_card_below_cents = 10000
    company_x.auto_refund_message = "Sorry! Refunded, no questions asked."
    company_x.save()
    payment = PaymentFactory(customer=customer_a, company=company_x, amount_cents=2500)
    client.force_login(customer_a)
    response = _post(client, payment)
    page = client.get(response["Location"]).content.decode()
    assert Refund.objects.get(payment=payment).amount_cents == 2500
    assert "Refunded automatically" in page
    assert "Sorry! Refunded, no questions asked." in page
    assert "$25.00" in page


def test_claim_three_files_accepted(client, customer_a, payment_a):
    """Three files are within the limit: all three are stored, each under a generated name."""
    client.force_login(customer_a)
    _post(client, payment_a, files=[png("a.png"), png("b.png"), png("c.png")])
    case = Case.objects.get(payment=payment_a)
    names = sorted(a.original_name for a in case.attachments.all())
    assert names == ["a.png", "b.png", "c.png"]
    stored = stored_files()
    assert len(stored) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}\.png", path.name) for path in stored), stored
    assert sorted(path.name for path in stored) == sorted(Path(a.file.name).name for a in case.attachments.all())


def test_claim_over_hourly_limit_answers_429_with_wait_time(client, customer_a, company_x, settings):
    """A customer who just opened the most claims allowed in an hour is told to wait: 429, nothing saved."""
    limit = settings.RESOLUTION["MAX_CASES_PER_HOUR"]
    payments = [PaymentFactory(customer=customer_a, company=company_x) for _ in range(limit + 1)]
    client.force_login(customer_a)
    for payment in payments[:limit]:
        assert _post(client, payment).status_code == 302
    before = row_counts()
    response = _post(client, payments[-1], files=[png()])
    assert response.status_code == 429
    assert f"You have opened {limit} cases in the last hour" in response.content.decode()
    assert row_counts() == before
