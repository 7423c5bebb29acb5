"""Bad input: every service refuses it with a message a person can act on, and the database (and the
evidence storage) is exactly as it was before the call."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from payments.services import balance_credit_grant, company_auto_refund_update, refund_request
from resolution_center.exceptions import ApplicationError
from tests.factories import UserFactory, case_in_state

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def snapshot() -> dict:
    """Every row of every table the Resolution Center writes, plus every stored evidence file."""
    rows = {}
    for label in ("payments", "cases", "notifications"):
        for model in apps.get_app_config(label).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    location = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    rows["files"] = sorted(str(p) for p in location.rglob("*") if p.is_file()) if location.exists() else []
    return rows


def assert_refused_and_untouched(call, message_part):
    before = snapshot()
    with pytest.raises(ApplicationError) as caught:
        call()
    message = caught.value.message
    assert message_part in message
    # A sentence a person reads (it may start by quoting their file's name), not a code or a traceback.
    assert (message[:1].isupper() or message[:1] == "“") and message.endswith("."), message
    assert snapshot() == before


def open_with(scene_payment, customer, **overrides):
    arguments = {"reason": "not_received", "description": "It never came."} | overrides
    return lambda: services.case_open(customer=customer, payment=scene_payment, **arguments)


# --- opening ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message_part"),
    [
        ({"reason": "changed_my_mind"}, "Please pick one of the listed reasons."),
        ({"reason": ""}, "Please pick one of the listed reasons."),
        ({"reason": None}, "Please pick one of the listed reasons."),
        ({"description": ""}, "Please write a description of the problem."),
        ({"description": "   \n\t "}, "Please write a description of the problem."),
        ({"description": None}, "Please write a description of the problem."),
        ({"description": "x" * 5001}, "at most 5000 characters"),
        ({"files": [png(), png(), png(), png()]}, "at most 3 files"),
        ({"files": [SimpleUploadedFile("notes.txt", b"plain text")]}, "is not an accepted file type"),
        ({"files": [png(), SimpleUploadedFile("x.exe", b"MZ\x90\x00" * 10)]}, "is not an accepted file type"),
        ({"files": [SimpleUploadedFile("empty.png", b"")]}, "is empty"),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None,
)
def test_case_open_bad_input_is_refused_and_saves_nothing(payment, customer, overrides, message_part):
    """Unknown reasons, empty descriptions and bad files are refused before anything is written."""
    assert_refused_and_untouched(open_with(payment, customer, **overrides), message_part)


# --- actions on a case ---------------------------------------------------------------------------

BAD_CASE_ACTIONS = [
    # (id, state the case is in, call, part of the message)
    (
        "request_info_empty_message",
        "open",
        lambda s: services.case_request_info(case=s.case, actor=s.merchant, message="  ", now=s.later()),
        "Please write what information you need.",
    ),
    (
        "request_info_bad_file",
        "open",
        lambda s: services.case_request_info(
            case=s.case,
            actor=s.merchant,
            message="Photo?",
            files=[png(), SimpleUploadedFile("a.html", b"<html>")],
            now=s.later(),
        ),
        "is not an accepted file type",
    ),
    (
        "reply_empty_message",
        "info_requested",
        lambda s: services.case_reply(case=s.case, actor=s.customer, message="", now=s.later()),
        "Please write your reply.",
    ),
    (
        "reply_too_long",
        "info_requested",
        lambda s: services.case_reply(case=s.case, actor=s.customer, message="x" * 5001, now=s.later()),
        "at most 5000 characters",
    ),
    (
        "accept_note_too_long",
        "open",
        lambda s: services.case_accept(case=s.case, actor=s.merchant, note="x" * 5001, now=s.later()),
        "at most 5000 characters",
    ),
    (
        "accept_closed_case",
        "final",
        lambda s: services.case_accept(case=s.case, actor=s.merchant, now=s.later()),
        "This case is closed",
    ),
    (
        "deny_closed_case",
        "final",
        lambda s: services.case_deny(
            case=s.case, actor=s.merchant, now=s.later(), reason="delivered_as_described", message="It was delivered."
        ),
        "This case is closed",
    ),
    (
        "withdraw_closed_case",
        "final",
        lambda s: services.case_withdraw(case=s.case, actor=s.customer, now=s.later()),
        "This case is closed",
    ),
    (
        "request_info_closed_case",
        "final",
        lambda s: services.case_request_info(case=s.case, actor=s.merchant, message="?", now=s.later()),
        "This case is closed",
    ),
    (
        "message_closed_case",
        "final",
        lambda s: services.case_message_post(case=s.case, actor=s.customer, body="Hello", now=s.later()),
        "This case is closed",
    ),
    (
        "message_empty_body",
        "open",
        lambda s: services.case_message_post(case=s.case, actor=s.customer, body=" ", now=s.later()),
        "Please write a message.",
    ),
    (
        "message_unknown_visibility",
        "escalated",
        lambda s: services.case_message_post(
            case=s.case, actor=s.reviewer, body="Hi", visibility="everybody", now=s.later()
        ),
        "Please choose who may see this message.",
    ),
    (
        "message_private_by_customer",
        "open",
        lambda s: services.case_message_post(
            case=s.case, actor=s.customer, body="Hi", visibility="customer", now=s.later()
        ),
        "Only reviewers can post messages that one party does not see.",
    ),
    (
        "appeal_empty_statement",
        "denied",
        lambda s: services.case_appeal(case=s.case, actor=s.customer, statement="", now=s.later()),
        "Please write why you appeal.",
    ),
    (
        "appeal_closed_case",
        "final",
        lambda s: services.case_appeal(case=s.case, actor=s.customer, statement="Unfair", now=s.later()),
        "This case is closed",
    ),
    (
        "waive_closed_case",
        "final",
        lambda s: services.case_appeal_waive(case=s.case, actor=s.customer, now=s.later()),
        "This case is closed",
    ),
    (
        "decide_unknown_decision",
        "escalated",
        lambda s: services.case_decide(case=s.case, actor=s.reviewer, decision="split", note="x", now=s.later()),
        "Please choose refund, credit or merchant wins.",
    ),
    (
        "decide_empty_note",
        "escalated",
        lambda s: services.case_decide(case=s.case, actor=s.reviewer, decision="refund", note="", now=s.later()),
        "Please write a note to the parties explaining the decision.",
    ),
    (
        "decide_closed_case",
        "final",
        lambda s: services.case_decide(case=s.case, actor=s.reviewer, decision="credit", note="x", now=s.later()),
        "This case is closed",
    ),
    (
        "decide_appeal_unknown_decision",
        "appealed",
        lambda s: services.case_decide_appeal(case=s.case, actor=s.reviewer, decision="", note="x", now=s.later()),
        "Please choose refund, credit or merchant wins.",
    ),
    (
        "decide_appeal_closed_case",
        "final",
        lambda s: services.case_decide_appeal(
            case=s.case, actor=s.reviewer, decision="refund", note="x", now=s.later()
        ),
        "This case is closed",
    ),
    (
        "reviewer_info_unknown_party",
        "escalated",
        lambda s: services.case_reviewer_info_request(
            case=s.case, actor=s.reviewer, party="reviewer", message="?", now=s.later()
        ),
        "Please choose whether to ask the customer or the merchant.",
    ),
    (
        "reviewer_info_closed_case",
        "final",
        lambda s: services.case_reviewer_info_request(
            case=s.case, actor=s.reviewer, party="customer", message="?", now=s.later()
        ),
        "Reviewers ask for information only on escalated or appealed cases.",
    ),
    (
        "unknown_case_id",
        "open",
        lambda s: services.case_accept(case=10**9, actor=s.merchant, now=s.later()),
        "This case does not exist.",
    ),
]


@pytest.mark.parametrize(
    ("state", "call", "message_part"), [a[1:] for a in BAD_CASE_ACTIONS], ids=[a[0] for a in BAD_CASE_ACTIONS]
)
def test_case_action_bad_input_is_refused_and_saves_nothing(state, call, message_part):
    """Empty texts, unknown choices, closed cases and unknown ids are refused with a readable message."""
    scene = case_in_state(state)
    assert_refused_and_untouched(lambda: call(scene), message_part)


# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -1, -100000])
def test_refund_request_zero_or_negative_amount_is_refused_and_saves_nothing(payment, amount):
    """No refund of nothing or of a negative sum."""
    assert_refused_and_untouched(
        lambda: refund_request(
            payment=payment, amount_cents=amount, currency="USD", idempotency_key="k", initiated_by_kind="merchant"
        ),
        "The amount must be a positive whole number of minor units",
    )


def test_refund_request_wrong_currency_is_refused_and_saves_nothing(payment):
    """A USD payment cannot be refunded in EUR."""
    assert_refused_and_untouched(
        lambda: refund_request(
            payment=payment, amount_cents=100, currency="EUR", idempotency_key="k", initiated_by_kind="merchant"
        ),
        "does not match the payment's currency USD",
    )


def test_refund_request_more_than_the_payment_is_refused_and_saves_nothing(payment):
    """A refund larger than the payment is refused whole."""
    assert_refused_and_untouched(
        lambda: refund_request(
            payment=payment, amount_cents=5001, currency="USD", idempotency_key="k", initiated_by_kind="merchant"
        ),
        "Only 5000 of 5000",
    )


@pytest.mark.parametrize("amount", [0, -5])
def test_balance_credit_grant_zero_or_negative_is_refused_and_saves_nothing(customer, amount):
    """No credit of nothing or of a negative sum."""
    assert_refused_and_untouched(
        lambda: balance_credit_grant(customer=customer, amount_cents=amount, currency="USD", idempotency_key="k"),
        "The amount must be a positive whole number",
    )


@pytest.mark.parametrize(
    ("card", "paypal", "message", "message_part"),
    [
        (-1, 0, "", "The card threshold must be zero or a positive amount."),
        (0, -1, "", "The PayPal threshold must be zero or a positive amount."),
        (0, 0, "x" * 1001, "at most 1000 characters"),
    ],
)
def test_company_auto_refund_update_bad_input_is_refused_and_saves_nothing(
    company, merchant, card, paypal, message, message_part
):
    """Negative thresholds and an over-long message are refused; the settings stay as they were."""
    assert_refused_and_untouched(
        lambda: company_auto_refund_update(
            company=company, actor=merchant, card_below_cents=card, paypal_below_cents=paypal, message=message
        ),
        message_part,
    )


def test_case_open_by_anonymous_visitor_is_refused_and_saves_nothing(payment):
    """Someone not signed in cannot open a case."""
    from django.contrib.auth.models import AnonymousUser

    assert_refused_and_untouched(open_with(payment, AnonymousUser()), "This payment is not yours")


def test_case_open_by_stranger_with_files_stores_no_file(payment):
    """Files sent with a refused case are never written to storage."""
    assert_refused_and_untouched(open_with(payment, UserFactory(), files=[png()]), "This payment is not yours")
