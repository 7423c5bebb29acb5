"""Each person reads the case in their own words (issue 12, §7): status headlines, deadline lines and
timeline entries from the reader's side; payments never confusable with cases; no delivery records
or internal state names on the parties' pages; one vocabulary for tabs, dropdowns and badges; money
as money in admin."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from cases import services
from cases.models import CaseEvent, CaseStatus, Visibility
from cases.selectors.counts import TAB_LABELS
from payments.models import ActorKind
from tests.factories import case_in_state

pytestmark = pytest.mark.django_db


def _customer_page(client, scene) -> str:
    client.force_login(scene.customer)
    response = client.get(reverse("cases:case-detail", args=[scene.case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _merchant_page(client, scene) -> str:
    client.force_login(scene.merchant)
    response = client.get(reverse("merchant:case", args=[scene.case.company_id, scene.case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _admin_page(client, scene) -> str:
    client.force_login(scene.reviewer)
    response = client.get(reverse("admin:cases_case_change", args=[scene.case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _text(html: str) -> str:
    """The page as a person reads it: tags gone, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_info_request_reads_from_each_side_with_the_question_above_the_reply_box(client):
    """The customer reads "Waiting for you" / "You must reply by" and the merchant's question itself
    right above the reply box; the merchant reads "Waiting for the customer"."""
    scene = case_in_state("info_requested")
    customer = _text(_customer_page(client, scene))
    assert "Waiting for you" in customer
    assert "You must reply by" in customer
    assert "Customer must reply by" not in customer
    assert re.search(r"asked you: Tracking number\? .*Your reply gives them", customer)
    assert f"{scene.case.company.name} asked for more information" in customer

    merchant = _text(_merchant_page(client, scene))
    assert "Waiting for the customer" in merchant
    assert "The customer must reply by" in merchant
    assert "You asked for more information" in merchant


def test_reply_reads_you_replied_for_her_and_the_customer_replied_for_the_merchant(client):
    scene = case_in_state("info_requested")
    services.case_reply(case=scene.case, actor=scene.customer, message="Here it is: 1Z999.", now=scene.later(hours=1))
    customer = _text(_customer_page(client, scene))
    assert "You replied" in customer
    assert "Customer replied" not in customer
    assert "You — Customer" not in customer
    assert "Waiting for the merchant" in customer
    assert "The merchant must answer by" in customer

    merchant = _text(_merchant_page(client, scene))
    assert "The customer replied" in merchant
    assert "Waiting for you" in merchant
    assert "You must answer by" in merchant
    assert "Waiting for the merchant" not in merchant


def test_parties_never_see_delivery_records_or_state_names_but_admin_keeps_them_collapsed(client):
    scene = case_in_state("info_requested")
    for visibility in (Visibility.CUSTOMER, Visibility.MERCHANT):
        CaseEvent.objects.create(
            case=scene.case,
            actor_kind=ActorKind.SYSTEM,
            action=CaseEvent.Action.NOTIFICATION,
            from_state=scene.case.status,
            to_state=scene.case.status,
            visibility=visibility,
            note="Email sent to someone@example.test: More information requested",
            created_at=scene.later(minutes=5),
        )
    for page in (_customer_page(client, scene), _merchant_page(client, scene)):
        text = _text(page)
        assert "Email sent to" not in text
        assert "Notification sent" not in text
        assert "→" not in text
        assert "Info requested" not in text
    admin = _admin_page(client, scene)
    deliveries = re.search(r'<details id="deliveries">(.*?)</details>', admin, re.S)
    assert deliveries is not None
    assert deliveries.group(1).count("Email sent to someone@example.test") == 2


def test_merchant_case_page_names_payments_pay_n_and_cases_case_n(client):
    """Payment numbers ("pay-15") and case numbers ("Case #2") never look alike."""
    scene = case_in_state("open")
    text = _text(_merchant_page(client, scene))
    assert f"Payment pay-{scene.payment.pk}" in text
    assert f"Case #{scene.case.pk}" in text
    # No bare "#N" (the old "#15 · 50mm camera lens" payment line): every "#" follows "Case ".
    assert not re.search(r"(?<!Case )#\d", text)


@pytest.mark.parametrize(
    ("status", "via", "customer_words", "merchant_words"),
    [
        ("final", "accepted", "The merchant decided it.", "Your company decided it."),
        ("final", "withdrawn", "You withdrew the request.", "The customer withdrew the request."),
        ("final", "credited", "A platform reviewer decided it.", "A platform reviewer decided it."),
        (
            "denied",
            "silence",
            "decided by the deadline: you did not reply in time",
            "decided by the deadline: the customer did not reply in time",
        ),
    ],
)
def test_a_decided_case_says_who_decided_it(client, status, via, customer_words, merchant_words):
    scene = case_in_state(status, via=via)
    assert customer_words in _text(_customer_page(client, scene))
    assert merchant_words in _text(_merchant_page(client, scene))


def test_a_case_decided_on_appeal_says_so(client):
    scene = case_in_state("appealed")
    services.case_decide_appeal(
        case=scene.case, actor=scene.reviewer, decision="merchant_wins", note="Delivered.", now=scene.later(hours=1)
    )
    customer = _text(_customer_page(client, scene))
    assert "Closed: refund denied" in customer
    assert "A platform reviewer decided it, on appeal." in customer
    assert "A platform reviewer decided the appeal: no refund" in customer


def test_status_tabs_dropdown_and_badges_use_the_same_words(client):
    scene = case_in_state("open")
    client.force_login(scene.merchant)
    html = client.get(reverse("merchant:cases", args=[scene.case.company_id])).content.decode()
    tabs = re.findall(r'data-status="[^"]+"[^>]*>([^<]+?) <span class="m-count">', html)
    options = re.findall(
        r"<option value=\"[^\"]*\"[^>]*>([^<]+)</option>", html.split('name="status"')[1].split("</select>")[0]
    )
    assert tabs == options == [label for _, label in TAB_LABELS]
    assert "Waiting for you" in tabs
    badge = re.search(rf'data-case-id="{scene.case.pk}".*?class="badge badge-(?!new)[^"]*">([^<]+)<', html, re.S).group(
        1
    )
    assert badge == "Waiting for you"


def test_refusals_name_the_state_in_plain_words(client):
    """A refused action reads well: "This case is with the reviewers, so …"."""
    scene = case_in_state("escalated")
    client.force_login(scene.customer)
    response = client.post(reverse("cases:case-withdraw", args=[scene.case.pk]), {"confirm": "on"})
    assert response.status_code == 409
    assert "This case is with the reviewers, so you can no longer withdraw" in _text(response.content.decode())


def test_merchant_notifications_and_settings_pages_have_the_company_bar(client):
    scene = case_in_state("open")
    client.force_login(scene.merchant)
    company_id = scene.case.company_id
    for name in ("notifications:merchant-list", "notifications:merchant-preferences"):
        html = client.get(reverse(name, args=[company_id])).content.decode()
        assert 'id="open-resolutions"' in html
        assert "1 open resolution" in html
        assert reverse("merchant:payments", args=[company_id]) in html
    # From a merchant page, the header's links lead there.
    html = client.get(reverse("merchant:cases", args=[company_id])).content.decode()
    assert reverse("notifications:merchant-list", args=[company_id]) in html
    assert reverse("notifications:merchant-preferences", args=[company_id]) in html
    # Not a member: the same 404 as any other company's page.
    assert client.get(reverse("notifications:merchant-list", args=[company_id + 999])).status_code == 404


def test_admin_shows_money_as_money_also_in_old_notes(client):
    scene = case_in_state("final", via="credited")
    # A row as written before the notes used the money formatter (the timeline is append-only).
    CaseEvent.objects.create(
        case=scene.case,
        actor_kind=ActorKind.SYSTEM,
        action=CaseEvent.Action.CREDIT_GRANTED,
        from_state=CaseStatus.FINAL,
        to_state=CaseStatus.FINAL,
        note="5000 USD credited to the customer's platform balance.",
        created_at=scene.later(minutes=5),
    )
    text = _text(_admin_page(client, scene))
    assert "$50.00 credited to the customer's platform balance." in text
    assert "5000 USD" not in text


def test_new_credit_notes_are_written_as_money():
    scene = case_in_state("final", via="credited")
    note = CaseEvent.objects.get(case=scene.case, action=CaseEvent.Action.CREDIT_GRANTED).note
    assert note == "$50.00 credited to the customer's platform balance."


def test_admin_shows_escalated_at_only_for_escalated_cases(client):
    escalated = _text(_admin_page(client, case_in_state("escalated")))
    assert "Escalated at" in escalated
    assert "Appealed at" not in escalated
    appealed = _text(_admin_page(client, case_in_state("appealed")))  # denied by the merchant, never escalated
    assert "Escalated at" not in appealed
    assert "Appealed at" in appealed
    opened = _text(_admin_page(client, case_in_state("open")))
    assert "Escalated at" not in opened
    assert "Appealed at" not in opened


def test_admin_queue_sort_arrow_marks_the_waiting_column(client):
    scene = case_in_state("escalated")
    client.force_login(scene.reviewer)
    html = client.get(reverse("admin:cases_case_changelist")).content.decode()
    sorted_headers = re.findall(r'<th scope="col" class="([^"]*sorted[^"]*)">.*?<a [^>]*>([^<]+)</a>', html, re.S)
    assert [label for _, label in sorted_headers] == ["Waiting for"]


def test_admin_sign_in_asks_for_email(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert re.search(r"<label[^>]*>Email:?</label>", html)
    assert ">Username" not in html


def test_admin_status_filter_uses_the_product_words(client):
    scene = case_in_state("escalated")
    client.force_login(scene.reviewer)
    html = client.get(reverse("admin:cases_case_changelist") + "?state=all").content.decode()
    for label in CaseStatus.labels:
        assert label in html
    assert "Info requested" not in html


def test_deadlines_move_with_the_reader(client):
    """The merchant who may appeal a reviewer's refund reads "You may appeal until"."""
    scene = case_in_state("accepted")
    assert "You may appeal until" in _text(_merchant_page(client, scene))
    assert "The merchant may appeal until" in _text(_customer_page(client, scene))
    assert scene.case.appeal_by > scene.now - timedelta(days=1)


def test_a_refused_merchant_answer_hands_back_what_was_typed(client):
    """The customer withdrew while the merchant typed a denial: the page says why and gives the
    note back, since the deny form is no longer offered."""
    scene = case_in_state("open")
    services.case_withdraw(case=scene.case, actor=scene.customer, now=scene.later(minutes=1))
    client.force_login(scene.merchant)
    response = client.post(
        reverse("merchant:case-deny", args=[scene.case.company_id, scene.case.pk]),
        {"reason": "delivered_as_described", "message": "Checked before shipping, twice.", "confirm": "on"},
    )
    assert response.status_code == 409
    text = _text(response.content.decode())
    assert "This case is closed, so you can no longer deny it." in text
    assert "What you wrote was not sent. Copy it if you still need it: Checked before shipping, twice." in text


def test_a_refused_customer_reply_hands_back_what_was_typed(client):
    scene = case_in_state("info_requested")
    services.case_accept(case=scene.case, actor=scene.merchant, now=scene.later(minutes=1))
    client.force_login(scene.customer)
    response = client.post(reverse("cases:case-reply", args=[scene.case.pk]), {"message": "Serial 42-XY."})
    assert response.status_code == 409
    text = _text(response.content.decode())
    assert "This case is closed" in text
    assert "Serial 42-XY." in text
