"""Deadline lengths come from settings.RESOLUTION, everywhere (issue #10).

With RESPONSE_DAYS, REPLY_DAYS and APPEAL_DAYS set to 3 (the default is 7), the product is driven
through its pages and services: the customer's claim page, the merchant's request-info and deny
forms, the customer's reply, the deadline sweep and a reviewer's decision in admin. Each step is
checked three ways: the deadline it stores is exactly its start + 3 days; every page, form and
flash message that states a length says "3 days" and nothing says 7 days or a week; the emails
delivered (Q_CLUSTER is sync in tests, so delivery runs when the on-commit callbacks run) carry
the 3-day absolute deadline.
"""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from cases import sweeps
from cases.expiry_rules import DENY_UNANSWERED, ESCALATE, days_text, deadline_from
from cases.models import Case, CaseEvent, CaseStatus
from resolution_center.formatting import format_deadline_for_email
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
THREE_DAYS = timedelta(days=3)
UTC_ZONE = zoneinfo.ZoneInfo("UTC")
# Any way a page could still state the default length: "7 days", "7 day", "seven days", "1 week".
STALE_LENGTH = re.compile(r"\b(?:7|seven)[\s-]*days?\b|\b1\s+week\b", re.IGNORECASE)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def three_days():
    with override_settings(RESOLUTION={**settings.RESOLUTION, "RESPONSE_DAYS": 3, "REPLY_DAYS": 3, "APPEAL_DAYS": 3}):
        yield


@pytest.fixture
def clock(three_days):
    """The wall clock stands still at START; ``scene.move_to`` moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(clock):
    """A company with one merchant, a customer with an eligible card payment, a reviewer, and a
    signed-in browser for each (signed in at the frozen time)."""
    company = CompanyFactory(name="Company X")
    merchant = merchant_of(company)
    customer = UserFactory(first_name="Alice", last_name="Customer")
    payment = PaymentFactory(
        company=company,
        customer=customer,
        amount_cents=5000,
        paid_at=START - timedelta(days=1),
        product__name="Blue Kettle",
    )
    staff = reviewer()
    browsers = {}
    for name, user in (("customer", customer), ("merchant", merchant), ("reviewer", staff)):
        browsers[name] = Client()
        browsers[name].force_login(user)
    users = {"customer": customer, "merchant": merchant, "reviewer": staff}

    def move_to(moment: datetime) -> None:
        """Move the clock; everyone signs in again (sessions end after 30 idle minutes)."""
        clock.move_to(moment)
        for name, user in users.items():
            browsers[name].force_login(user)

    return SimpleNamespace(
        company=company,
        merchant=merchant,
        customer=customer,
        payment=payment,
        reviewer=staff,
        browsers=browsers,
        move_to=move_to,
    )


# --- helpers -----------------------------------------------------------------------------------


def plain(html: str) -> str:
    """The text with runs of whitespace (line breaks, no-break spaces) as one space."""
    return " ".join(html.replace("\xa0", " ").split())


def assert_states_three_days(text: str, *phrases: str) -> None:
    """Each phrase is in the text, and no length of 7 days (or a week) is stated anywhere."""
    flat = plain(text)
    for phrase in phrases:
        assert phrase in flat, f"{phrase!r} missing"
    stale = STALE_LENGTH.search(flat)
    assert stale is None, f"stale length {stale.group(0)!r} in: …{flat[max(0, stale.start() - 80) : stale.end() + 80]}…"


def get(browser: Client, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def post_and_follow(browser: Client, url: str, data: dict, django_capture_on_commit_callbacks, *, lands_on: str) -> str:
    """POST (running the on-commit callbacks, so the emails go out), expect the redirect to
    ``lands_on`` (a case page; never the sign-in page), and return that page, flash included."""
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == lands_on
    return get(browser, lands_on)


def customer_case_url(case) -> str:
    return reverse("cases:case-detail", args=[case.pk])


def merchant_case_url(case) -> str:
    return reverse("merchant:case", args=[case.company_id, case.pk])


def merchant_action_url(name: str, case) -> str:
    return reverse(f"merchant:case-{name}", args=[case.company_id, case.pk])


def time_tag(moment: datetime) -> str:
    return f'<time datetime="{moment.isoformat()}">'


def emails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def only_email_to(user):
    [message] = emails_to(user)
    return message


def assert_email_deadline(message, deadline: datetime | None) -> None:
    """The email's absolute deadline is ``deadline`` (in the recipient's zone, UTC here), in both
    parts; ``None``: it states no deadline. Either way it states no 7-day length."""
    [(html, _)] = message.alternatives
    for part in (message.body, html):
        assert_states_three_days(part)
        if deadline is None:
            assert "Deadline:" not in part
    if deadline is not None:
        assert f"Deadline: {format_deadline_for_email(deadline, UTC_ZONE)}" in message.body
        assert format_deadline_for_email(deadline, UTC_ZONE) in html


def open_claim_through_page(scene, django_capture_on_commit_callbacks) -> tuple[Case, str]:
    """The customer opens a case on the claim page; returns the case and the page shown next."""
    browser = scene.browsers["customer"]
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("cases:case-open", args=[scene.payment.pk]),
            {"reason": "not_received", "description": "It never arrived."},
        )
    case = Case.objects.get(payment=scene.payment)
    assert response.status_code == 302 and response["Location"] == customer_case_url(case)
    return case, get(browser, customer_case_url(case))


def assert_deadline(case: Case, field: str, expected: datetime) -> None:
    case.refresh_from_db()
    assert getattr(case, field) == expected
    assert case.next_deadline_at == expected


# --- opening a claim ---------------------------------------------------------------------------


def test_claim_pages_with_three_day_setting_state_three_days_and_set_respond_by(
    scene, django_capture_on_commit_callbacks
):
    """The orders page and the claim form state the merchant's 3 days; opening the claim stores
    respond_by = now + 3 days, the flash and the case page say 3 days and show that date, and both
    parties' "case opened" emails carry it as the deadline."""
    customer = scene.browsers["customer"]
    assert_states_three_days(
        get(customer, reverse("cases:orders")), "Request a refund and the company has 3 days to answer."
    )
    assert_states_three_days(
        get(customer, reverse("cases:case-open", args=[scene.payment.pk])),
        "has 3 days to accept, deny or ask for more information.",
    )
    mail.outbox.clear()

    case, page = open_claim_through_page(scene, django_capture_on_commit_callbacks)

    assert case.status == CaseStatus.OPEN
    assert_deadline(case, "respond_by", START + THREE_DAYS)
    assert (case.reply_by, case.appeal_by) == (None, None)
    assert_states_three_days(
        page,
        "Company X has your refund request and 3 days to answer it.",  # the flash
        "The merchant has 3 days to accept, deny or ask for more information.",  # the status
        "The merchant must answer by",
    )
    assert time_tag(START + THREE_DAYS) in page
    assert_email_deadline(only_email_to(scene.customer), START + THREE_DAYS)
    assert_email_deadline(only_email_to(scene.merchant), START + THREE_DAYS)


# --- the merchant's answers and the customer's reply ------------------------------------------------


def test_merchant_request_info_and_customer_reply_with_three_day_setting_restart_three_day_clocks(
    scene, django_capture_on_commit_callbacks
):
    """The merchant's case page offers request-info and deny with 3 days stated; asking stores
    reply_by = then + 3 days (flash, both case pages and the customer's email agree); the
    customer's reply stores a fresh respond_by = reply time + 3 days (flash, page and the
    merchant's email agree)."""
    case, _ = open_claim_through_page(scene, django_capture_on_commit_callbacks)
    merchant, customer = scene.browsers["merchant"], scene.browsers["customer"]
    assert_states_three_days(
        get(merchant, merchant_case_url(case)),
        "The customer has 3 days to reply; without a reply the case is denied.",  # request-info form
        "The customer may appeal to the platform within 3 days; a reviewer then decides.",  # deny form
        "You have 3 days to accept, deny or ask for more information.",  # the status, from the merchant's side
    )

    asked_at = START + timedelta(hours=5)
    scene.move_to(asked_at)
    mail.outbox.clear()
    page = post_and_follow(
        merchant,
        merchant_action_url("request-info", case),
        {"message": "A photo please?"},
        django_capture_on_commit_callbacks,
        lands_on=merchant_case_url(case),
    )

    assert_deadline(case, "reply_by", asked_at + THREE_DAYS)
    assert case.status == CaseStatus.INFO_REQUESTED and case.respond_by is None
    assert_states_three_days(
        page,
        "Your request was sent. The customer has 3 days to reply.",  # the flash
        "The customer has 3 days to reply; without a reply the case is denied.",  # the status
        "The customer must reply by",
    )
    assert time_tag(asked_at + THREE_DAYS) in page
    assert_email_deadline(only_email_to(scene.customer), asked_at + THREE_DAYS)
    assert emails_to(scene.merchant) == []
    customer_page = get(customer, customer_case_url(case))
    assert_states_three_days(customer_page, "Your reply gives them 3 more days to answer.", "You must reply by")
    assert time_tag(asked_at + THREE_DAYS) in customer_page

    replied_at = asked_at + timedelta(days=1, hours=2)
    scene.move_to(replied_at)
    mail.outbox.clear()
    page = post_and_follow(
        customer,
        reverse("cases:case-reply", args=[case.pk]),
        {"message": "Here it is."},
        django_capture_on_commit_callbacks,
        lands_on=customer_case_url(case),
    )

    assert_deadline(case, "respond_by", replied_at + THREE_DAYS)
    assert case.status == CaseStatus.OPEN and case.reply_by is None
    assert_states_three_days(
        page,
        "Your reply was sent. The merchant has 3 days to answer.",  # the flash
        "The merchant has 3 days to accept, deny or ask for more information.",
    )
    assert time_tag(replied_at + THREE_DAYS) in page
    assert_email_deadline(only_email_to(scene.merchant), replied_at + THREE_DAYS)
    assert emails_to(scene.customer) == []
    merchant_page = get(merchant, merchant_case_url(case))
    assert_states_three_days(merchant_page, "The customer has 3 days to reply", "within 3 days")
    assert time_tag(replied_at + THREE_DAYS) in merchant_page


def test_merchant_deny_page_with_three_day_setting_sets_appeal_by_three_days_later(
    scene, django_capture_on_commit_callbacks
):
    """Denying on the merchant's page stores appeal_by = denial + 3 days; the flash says the
    customer may appeal within 3 days, both case pages show that date with 3 days left, and the
    customer's "denied" email carries it."""
    case, _ = open_claim_through_page(scene, django_capture_on_commit_callbacks)
    denied_at = START + timedelta(hours=2)
    scene.move_to(denied_at)
    mail.outbox.clear()

    page = post_and_follow(
        scene.browsers["merchant"],
        merchant_action_url("deny", case),
        {"confirm": "on", "reason": "delivered_as_described", "message": "Delivered on Monday."},
        django_capture_on_commit_callbacks,
        lands_on=merchant_case_url(case),
    )

    assert_deadline(case, "appeal_by", denied_at + THREE_DAYS)
    assert case.status == CaseStatus.DENIED
    assert_states_three_days(
        page,
        "You denied the refund. The customer may appeal within 3 days.",
        "The customer may appeal until",
        "3 days left",
    )
    assert time_tag(denied_at + THREE_DAYS) in page
    customer_page = get(scene.browsers["customer"], customer_case_url(case))
    assert_states_three_days(customer_page, "You may appeal until", "3 days left")
    assert time_tag(denied_at + THREE_DAYS) in customer_page
    assert_email_deadline(only_email_to(scene.customer), denied_at + THREE_DAYS)


# --- the deadline sweep ----------------------------------------------------------------------------


def test_sweep_with_three_day_setting_reminds_after_two_days_and_escalates_after_three(
    scene, django_capture_on_commit_callbacks
):
    """The merchant's clock is 3 days: the "24 hours left" reminder goes out 2 days after opening
    with the 3-day deadline, the sweep leaves the case alone at that deadline and escalates it just
    after, with the timeline note "did not answer within 3 days" on both parties' pages; the
    escalation emails state no deadline and no 7 days."""
    case, _ = open_claim_through_page(scene, django_capture_on_commit_callbacks)
    respond_by = START + THREE_DAYS

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeps.deadlines_sweep(now=respond_by - timedelta(hours=25)).reminded == 0
        assert sweeps.deadlines_sweep(now=respond_by - timedelta(hours=23)).reminded == 1
    reminder = only_email_to(scene.merchant)
    assert "less than 24 hours left to answer" in reminder.subject
    assert_email_deadline(reminder, respond_by)
    assert emails_to(scene.customer) == []

    assert sweeps.deadlines_sweep(now=respond_by).escalated == 0
    swept_at = respond_by + timedelta(minutes=1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeps.deadlines_sweep(now=swept_at).escalated == 1

    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    assert case.escalated_at == swept_at
    assert (case.respond_by, case.reply_by, case.appeal_by, case.next_deadline_at) == (None, None, None, None)
    event = CaseEvent.objects.get(case=case, action=CaseEvent.Action.ESCALATED)
    assert event.note == "The merchant did not answer within 3 days." == ESCALATE.note()
    # Each reads it from their side: the late merchant reads "You did not answer".
    for browser, url, words in (
        (scene.browsers["customer"], customer_case_url(case), "The merchant did not answer within 3 days."),
        (scene.browsers["merchant"], merchant_case_url(case), "You did not answer within 3 days."),
    ):
        assert_states_three_days(get(browser, url), words)
    for user in (scene.customer, scene.merchant):
        assert_email_deadline(only_email_to(user), None)


def test_sweep_with_three_day_setting_denies_unanswered_request_and_starts_three_day_appeal(
    scene, django_capture_on_commit_callbacks
):
    """A request for information left unanswered for 3 days: the sweep denies the case just after
    reply_by, notes "did not reply within 3 days", starts appeal_by = sweep time + 3 days, and both
    parties' emails carry that deadline."""
    case, _ = open_claim_through_page(scene, django_capture_on_commit_callbacks)
    asked_at = START + timedelta(hours=1)
    scene.move_to(asked_at)
    post_and_follow(
        scene.browsers["merchant"],
        merchant_action_url("request-info", case),
        {"message": "Tracking number?"},
        django_capture_on_commit_callbacks,
        lands_on=merchant_case_url(case),
    )
    assert_deadline(case, "reply_by", asked_at + THREE_DAYS)

    assert sweeps.deadlines_sweep(now=asked_at + THREE_DAYS).denied == 0
    swept_at = asked_at + THREE_DAYS + timedelta(minutes=1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeps.deadlines_sweep(now=swept_at).denied == 1

    assert_deadline(case, "appeal_by", swept_at + THREE_DAYS)
    assert case.status == CaseStatus.DENIED
    assert (case.respond_by, case.reply_by) == (None, None)
    event = CaseEvent.objects.get(case=case, action=CaseEvent.Action.REPLY_EXPIRED)
    assert event.note == "The customer did not reply within 3 days." == DENY_UNANSWERED.note()
    scene.move_to(swept_at)
    customer_page = get(scene.browsers["customer"], customer_case_url(case))
    assert_states_three_days(customer_page, "You did not reply within 3 days.", "You may appeal until")
    assert time_tag(swept_at + THREE_DAYS) in customer_page
    for user in (scene.customer, scene.merchant):
        assert_email_deadline(only_email_to(user), swept_at + THREE_DAYS)


# --- a reviewer's decision in admin ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "status", "who_may_appeal"),
    [("refund", "accepted", "merchant"), ("merchant_wins", "denied", "customer")],
)
def test_reviewer_decision_in_admin_with_three_day_setting_sets_appeal_by_three_days_later(
    scene, django_capture_on_commit_callbacks, decision, status, who_may_appeal
):
    """The admin decision form says the losing side may appeal for 3 days; the decision stores
    appeal_by = decision time + 3 days, the flash names that date, and both parties' emails carry
    it."""
    case, _ = open_claim_through_page(scene, django_capture_on_commit_callbacks)
    assert sweeps.deadlines_sweep(now=START + THREE_DAYS + timedelta(minutes=1)).escalated == 1
    decided_at = START + THREE_DAYS + timedelta(hours=4)
    scene.move_to(decided_at)
    admin = scene.browsers["reviewer"]
    change_url = reverse("admin:cases_case_change", args=[case.pk])
    assert_states_three_days(
        get(admin, change_url),
        "A refund is paid by the merchant once the decision is final (the merchant may appeal for 3 days).",
        "If the merchant wins, the customer may appeal for 3 days.",
    )
    mail.outbox.clear()

    page = post_and_follow(
        admin,
        reverse("admin:cases_case_decide", args=[case.pk]),
        {"decision-decision": decision, "decision-note": "Decided on the evidence."},
        django_capture_on_commit_callbacks,
        lands_on=change_url,
    )

    assert_deadline(case, "appeal_by", decided_at + THREE_DAYS)
    assert case.status == status
    appeal_by_text = f"{decided_at + THREE_DAYS:%d %b %Y, %H:%M} UTC"
    assert_states_three_days(page, f"The {who_may_appeal} may appeal until {appeal_by_text}")
    for user in (scene.customer, scene.merchant):
        assert_email_deadline(only_email_to(user), decided_at + THREE_DAYS)


# --- one day: the helpers pluralize --------------------------------------------------------------------


def test_day_helpers_and_pages_with_one_day_setting_say_1_day_not_1_days(scene, django_capture_on_commit_callbacks):
    """With every clock at 1 day the helpers say "1 day" (never "1 days"), deadlines are 1 day
    later, the sweep's notes and the pages and flash messages say "1 day"."""
    one_day = {**settings.RESOLUTION, "RESPONSE_DAYS": 1, "REPLY_DAYS": 1, "APPEAL_DAYS": 1}
    with override_settings(RESOLUTION=one_day):
        assert [days_text(field) for field in ("respond_by", "reply_by", "appeal_by")] == ["1 day"] * 3
        assert [deadline_from(START, field) for field in ("respond_by", "reply_by", "appeal_by")] == [
            START + timedelta(days=1)
        ] * 3
        assert ESCALATE.note() == "The merchant did not answer within 1 day."
        assert DENY_UNANSWERED.note() == "The customer did not reply within 1 day."

        orders = plain(get(scene.browsers["customer"], reverse("cases:orders")))
        case, page = open_claim_through_page(scene, django_capture_on_commit_callbacks)
        merchant_page = plain(get(scene.browsers["merchant"], merchant_case_url(case)))

    assert "the company has 1 day to answer." in orders
    assert "Company X has your refund request and 1 day to answer it." in plain(page)
    assert "The merchant has 1 day to accept, deny or ask for more information." in plain(page)
    assert "The customer has 1 day to reply;" in merchant_page
    assert "may appeal to the platform within 1 day;" in merchant_page
    assert_deadline(case, "respond_by", START + timedelta(days=1))
    for text in (orders, plain(page), merchant_page):
        assert re.search(r"\b1 days\b", text) is None


# --- a guard against new hard-coded lengths --------------------------------------------------------------


def test_templates_and_message_code_without_hard_coded_seven_days_state_no_stale_length():
    """No template, and none of the modules that write what users read (status texts, flash
    messages, admin messages, notification texts), states a 7-day length: lengths come from
    ``rules.*`` in templates and ``days_text`` in Python."""
    files = [
        *sorted((REPO / "templates").rglob("*.html")),
        *sorted((REPO / "templates").rglob("*.txt")),
        REPO / "cases" / "presentation.py",
        REPO / "cases" / "admin.py",
        *sorted((REPO / "cases" / "views").glob("*.py")),
        REPO / "notifications" / "messages.py",
    ]
    assert len(files) > 20 and all(path.is_file() for path in files)
    hard_coded = re.compile(r"\b(?:7|seven)[\s-]*days?\b|timedelta\(days=7\)", re.IGNORECASE)
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if hard_coded.search(line)
    ]
    assert found == []
