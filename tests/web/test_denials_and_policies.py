"""Issue 12 §3-§5 on the pages: the merchant's deny form (reason, message, files; what was typed is
kept after a refusal), the denial at the top of the customer's case page, appeals with files from
either side, the company's refund policy and terms (edited by owners and admins, read-only for
support, shown on the claim form) and the snapshot on the reviewers' case page."""

import re
from html import unescape

import pytest
from django.urls import reverse

from cases import services
from cases.models import CaseStatus, DenialReason, Message
from payments.models import Company, Membership
from payments.services import company_policies_update
from tests.factories import MembershipFactory, PaymentFactory, case_in_state, merchant_of

from .conftest import pdf, png, renamed_executable, row_counts

pytestmark = pytest.mark.django_db

DENY = {"confirm": "on", "reason": "used_or_consumed", "message": "You finished all 40 lessons."}
POLICIES = {
    "refund_policy_text": "Refunds within 30 days of purchase.",
    "refund_policy_url": "https://acme.example/refunds",
    "terms_text": "Courses are licensed to one person.",
    "terms_url": "https://acme.example/terms",
}


def deny_url(case):
    return reverse("merchant:case-deny", args=[case.company_id, case.pk])


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the merchant's deny form ---------------------------------------------------------------------


def test_deny_form_asks_for_reason_message_and_files(client, case_a, merchant_x):
    """The deny form offers every reason, a message box and a file input, posted as multipart."""
    client.force_login(merchant_x)
    html = client.get(reverse("merchant:case", args=[case_a.company_id, case_a.pk])).content.decode()
    form = re.search(r'<form[^>]*action="' + re.escape(deny_url(case_a)) + r'".*?</form>', html, re.S).group(0)

    assert 'enctype="multipart/form-data"' in form
    for label in DenialReason.labels:
        assert f">{label}</option>" in form
    assert 'name="message"' in form and 'type="file" name="files"' in form


def test_deny_with_reason_message_and_file_denies_and_stores_them(client, case_a, merchant_x):
    client.force_login(merchant_x)

    response = client.post(deny_url(case_a), {**DENY, "files": [pdf("lesson-log.pdf")]})

    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.status == CaseStatus.DENIED and case_a.denial_reason == DenialReason.USED_OR_CONSUMED
    message = Message.objects.get(case=case_a, body="You finished all 40 lessons.")
    assert list(message.attachments.values_list("original_name", flat=True)) == ["lesson-log.pdf"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({**DENY, "reason": ""}, "Please choose why you deny the refund."),
        ({**DENY, "reason": "because"}, "Select a valid choice."),
        ({**DENY, "message": "   "}, "Please write a message to the customer explaining the denial."),
        ({k: v for k, v in DENY.items() if k != "confirm"}, "Please tick the box to confirm the denial"),
    ],
    ids=["no_reason", "unknown_reason", "no_message", "not_confirmed"],
)
def test_refused_deny_keeps_what_was_typed_and_saves_nothing(client, case_a, merchant_x, data, error):
    """A deny form missing its reason, message or confirmation comes back (400) with the message,
    the form open, the reason still chosen and the message still typed; the case stays open."""
    client.force_login(merchant_x)
    before = row_counts()

    response = client.post(deny_url(case_a), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert error in html
    assert re.search(r'<details class="confirm m-action m-action--deny" open>', html)
    if data.get("reason") == "used_or_consumed":
        assert '<option value="used_or_consumed" selected>' in html
    if data.get("message", "").strip():
        assert "You finished all 40 lessons.</textarea>" in html
    case_a.refresh_from_db()
    assert case_a.status == CaseStatus.OPEN and row_counts() == before


def test_deny_with_a_disguised_executable_is_refused_and_keeps_the_text(client, case_a, merchant_x):
    """A file that is not what its name says refuses the denial (400), keeps the typed message and
    writes no file."""
    client.force_login(merchant_x)
    before = row_counts()

    response = client.post(deny_url(case_a), {**DENY, "files": [renamed_executable("proof.png")]})

    html = response.content.decode()
    assert response.status_code == 400
    assert "is not an accepted file type" in html
    assert "You finished all 40 lessons.</textarea>" in html
    assert row_counts() == before


def test_deny_with_four_files_is_refused(client, case_a, merchant_x):
    client.force_login(merchant_x)
    before = row_counts()

    response = client.post(deny_url(case_a), {**DENY, "files": [png("1.png"), png("2.png"), png("3.png"), png()]})

    assert response.status_code == 400
    assert "at most 3 files" in response.content.decode()
    assert row_counts() == before


# --- the denial at the top of the customer's page -------------------------------------------------


def test_customer_sees_the_reason_and_message_at_the_top_while_denied(client, case_a, customer_a, merchant_x):
    """The denial's reason, the merchant's words and their file come right after the status, before
    the appeal form and the timeline."""
    services.case_deny(
        case=case_a,
        actor=merchant_x,
        reason=DenialReason.USED_OR_CONSUMED,
        message="You finished all 40 lessons.",
        files=[pdf("lesson-log.pdf")],
    )
    client.force_login(customer_a)

    html = client.get(reverse("cases:case-detail", args=[case_a.pk])).content.decode()

    denial = re.search(r'<section class="card callout callout-denial" id="denial".*?</section>', html, re.S).group(0)
    assert "Company X denied your refund request" in plain(denial)
    assert "Reason: Used or consumed" in plain(denial)
    assert "You finished all 40 lessons." in denial
    assert "lesson-log.pdf" in denial
    assert html.index('id="denial"') < html.index('id="appeal-heading"') < html.index('id="timeline-heading"')
    assert html.index('id="status-heading"') < html.index('id="denial"')


def test_denial_stays_at_the_top_once_final(client, customer_a):
    """After the customer accepts the denial (final, denied), the reason is still shown at the top."""
    scene = case_in_state("final", via="denied")
    client.force_login(scene.customer)

    html = client.get(reverse("cases:case-detail", args=[scene.case.pk])).content.decode()

    assert "Reason: Delivered as described" in plain(html)
    assert html.index('id="denial"') < html.index('id="timeline-heading"')


@pytest.mark.parametrize(
    ("via", "says"),
    [("reviewer", "A platform reviewer decided in"), ("silence", "you did not reply in time")],
)
def test_denial_without_a_reason_says_who_decided(client, via, says):
    """A reviewer's "merchant wins" and the customer's silence show who decided, and no reason."""
    scene = case_in_state("denied", via=via)
    client.force_login(scene.customer)

    html = client.get(reverse("cases:case-detail", args=[scene.case.pk])).content.decode()

    denial = re.search(r'id="denial".*?</section>', html, re.S).group(0)
    assert says in plain(denial)
    assert "Reason:" not in denial


def test_no_denial_box_on_a_case_that_was_not_denied(client, case_a, customer_a):
    client.force_login(customer_a)

    assert 'id="denial"' not in client.get(reverse("cases:case-detail", args=[case_a.pk])).content.decode()


# --- appeals with files ---------------------------------------------------------------------------


def test_customer_appeals_with_files_from_the_case_page(client):
    scene = case_in_state("denied")
    client.force_login(scene.customer)
    page = client.get(reverse("cases:case-detail", args=[scene.case.pk])).content.decode()
    form = re.search(r'<form[^>]*action="[^"]*/appeal/".*?</form>', page, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form and 'type="file" name="files"' in form

    response = client.post(
        reverse("cases:case-appeal", args=[scene.case.pk]),
        {"statement": "It never arrived, see the courier's note.", "files": [pdf("courier.pdf")]},
    )

    assert response.status_code == 302
    message = Message.objects.get(case=scene.case, body="It never arrived, see the courier's note.")
    assert list(message.attachments.values_list("original_name", flat=True)) == ["courier.pdf"]
    page = client.get(reverse("cases:case-detail", args=[scene.case.pk])).content.decode()
    assert "courier.pdf" in page


def test_customer_appeal_with_a_bad_file_keeps_the_statement(client):
    scene = case_in_state("denied")
    client.force_login(scene.customer)
    before = row_counts()

    response = client.post(
        reverse("cases:case-appeal", args=[scene.case.pk]),
        {"statement": "See the photo.", "files": [renamed_executable()]},
    )

    assert response.status_code == 400
    assert "is not an accepted file type" in response.content.decode()
    assert "See the photo.</textarea>" in response.content.decode()
    assert row_counts() == before
    scene.refresh()
    assert scene.case.status == CaseStatus.DENIED


def test_merchant_appeals_a_reviewers_refund_with_files(client):
    scene = case_in_state("accepted")
    client.force_login(scene.merchant)

    response = client.post(
        reverse("merchant:case-appeal", args=[scene.case.company_id, scene.case.pk]),
        {"statement": "Signed receipt attached.", "files": [pdf("receipt.pdf")]},
    )

    assert response.status_code == 302
    assert scene.refresh().status == CaseStatus.APPEALED
    message = Message.objects.get(case=scene.case, body="Signed receipt attached.")
    assert list(message.attachments.values_list("original_name", flat=True)) == ["receipt.pdf"]


# --- the company's refund policy and terms --------------------------------------------------------


def policies_url(company):
    return reverse("merchant:policies", args=[company.pk])


def test_policies_tab_is_on_every_merchant_page(client, company_x, merchant_x):
    client.force_login(merchant_x)

    html = client.get(reverse("merchant:cases", args=[company_x.pk])).content.decode()

    assert f'href="{policies_url(company_x)}"' in html and ">Policies</a>" in html


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owner_or_admin_saves_policies(client, company_x, role):
    client.force_login(merchant_of(company_x, role=role))

    response = client.post(policies_url(company_x), POLICIES)

    assert response.status_code == 302
    company_x.refresh_from_db()
    assert company_x.refund_policy_text == "Refunds within 30 days of purchase."
    assert company_x.terms_url == "https://acme.example/terms"
    page = client.get(policies_url(company_x)).content.decode()
    assert "Refund policy and terms saved." in page
    assert "Refunds within 30 days of purchase.</textarea>" in page


def test_support_member_reads_policies_but_cannot_change_them(client, company_x):
    """A support member sees the policies read-only (no Save button); a POST is refused with 403 and
    nothing changes."""
    company_policies_update(company=company_x, actor=merchant_of(company_x), **POLICIES)
    support = MembershipFactory(company=company_x, role=Membership.Role.SUPPORT).user
    client.force_login(support)

    page = client.get(policies_url(company_x)).content.decode()
    assert "Refunds within 30 days of purchase." in page
    assert "only owners and admins can change them" in page
    assert "Save policies" not in page
    assert re.search(r'<textarea[^>]*name="refund_policy_text"[^>]*disabled', page)

    response = client.post(policies_url(company_x), {**POLICIES, "refund_policy_text": "No refunds."})

    assert response.status_code == 403
    assert "Only the company's owners and admins can change the refund policy and terms." in unescape(
        response.content.decode()
    )
    assert Company.objects.get(pk=company_x.pk).refund_policy_text == "Refunds within 30 days of purchase."


@pytest.mark.parametrize("url", ["javascript:alert(1)", "acme.example/refunds", "ftp://acme.example/x"])
def test_policy_link_that_is_not_http_is_refused_and_keeps_the_input(client, company_x, merchant_x, url):
    client.force_login(merchant_x)

    response = client.post(policies_url(company_x), {**POLICIES, "refund_policy_url": url})

    html = response.content.decode()
    assert response.status_code == 400
    assert "must be a web address starting with https://" in html
    assert f'value="{url}"' in html
    assert "Refunds within 30 days of purchase.</textarea>" in html
    assert Company.objects.get(pk=company_x.pk).refund_policy_url == ""


def test_claim_form_shows_the_companys_policy_and_terms_before_sending(client, company_x, customer_a, payment_a):
    """The customer reads the refund policy and terms (texts and links) on the claim form, above the
    send button."""
    company_policies_update(company=company_x, actor=merchant_of(company_x), **POLICIES)
    client.force_login(customer_a)

    html = client.get(reverse("cases:case-open", args=[payment_a.pk])).content.decode()

    section = re.search(r'<section class="claim-policies".*?</section>', html, re.S).group(0)
    assert "Before you send it: the refund policy and terms of Company X" in section
    assert "Refunds within 30 days of purchase." in section
    assert "Courses are licensed to one person." in section
    assert 'href="https://acme.example/refunds"' in section and 'href="https://acme.example/terms"' in section
    assert html.index("claim-policies") < html.index("Send refund request")


def test_claim_form_without_policies_shows_no_policy_section(client, customer_a, payment_a):
    client.force_login(customer_a)

    assert "claim-policies" not in client.get(reverse("cases:case-open", args=[payment_a.pk])).content.decode()


# --- the reviewers' case page ------------------------------------------------------------------------


def test_admin_case_page_shows_the_snapshot_not_the_current_policies(client, company_x, reviewer_x):
    """Reviewers read the policies as they were when the case was opened, even after the company
    changed them."""
    owner = merchant_of(company_x)
    company_policies_update(company=company_x, actor=owner, **POLICIES)
    payment = PaymentFactory(company=company_x)
    case = services.case_open(customer=payment.customer, payment=payment, reason="not_received", description="x")
    company_policies_update(
        company=company_x,
        actor=owner,
        refund_policy_text="No refunds ever.",
        refund_policy_url="",
        terms_text="",
        terms_url="",
    )
    client.force_login(reviewer_x)

    html = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()

    assert "Refund policy and terms when the case was opened" in html
    assert "Refunds within 30 days of purchase." in html
    assert 'href="https://acme.example/terms"' in html
    assert "No refunds ever." not in html


def test_admin_case_page_says_when_there_were_no_policies(client, case_a, reviewer_x):
    client.force_login(reviewer_x)

    html = client.get(reverse("admin:cases_case_change", args=[case_a.pk])).content.decode()

    assert "Refund policy and terms when the case was opened" in html
    assert "The company had no refund policy or terms when the case was opened." in html


def test_admin_case_page_shows_the_denial_reason(client, case_a, merchant_x, reviewer_x):
    services.case_deny(case=case_a, actor=merchant_x, reason=DenialReason.OUTSIDE_POLICY, message="Too late.")
    client.force_login(reviewer_x)

    html = client.get(reverse("admin:cases_case_change", args=[case_a.pk])).content.decode()

    assert "Denial reason" in html and "Outside the refund policy" in html
