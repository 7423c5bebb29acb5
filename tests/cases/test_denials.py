"""Issue 12 §3 and §5: a denial says why (a reason, a message, up to 3 files) and an appeal carries
new evidence (up to 3 files), for each side that may appeal. Bad input is refused with nothing
half-saved, files included."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Attachment, CaseEvent, CaseStatus, DenialReason, Message, Visibility
from payments.models import ActorKind, Membership
from resolution_center.exceptions import ApplicationError, InvalidTransitionError, NotAllowedError
from tests.cases.test_bad_input import assert_refused_and_untouched, png
from tests.factories import MembershipFactory, case_in_state
from tests.web.conftest import pdf, stored_files

pytestmark = pytest.mark.django_db


def deny(scene, *, actor=None, now=None, **overrides):
    arguments = {"reason": DenialReason.USED_OR_CONSUMED, "message": "You watched every lesson."} | overrides
    return services.case_deny(
        case=scene.case, actor=actor or scene.merchant, now=now or scene.later(hours=1), **arguments
    )


# --- the merchant denies, saying why -----------------------------------------------------------------


@pytest.mark.parametrize("state", ["open", "info_requested"])
def test_deny_stores_reason_and_a_message_with_files_visible_to_both(state):
    """From open and info_requested: the case is denied with the reason, the DENIED event notes the
    reason, and the message (visible to both parties) carries the files."""
    scene = case_in_state(state)

    deny(scene, files=[png("logins.png"), pdf("access-log.pdf")])

    case = scene.refresh()
    assert case.status == CaseStatus.DENIED
    assert case.denial_reason == DenialReason.USED_OR_CONSUMED
    assert case.decided_by_kind == ActorKind.MERCHANT and case.decided_by == scene.merchant
    event = case.events.get(action=CaseEvent.Action.DENIED)
    assert event.note == "Reason: Used or consumed."
    message = Message.objects.get(case=case, body="You watched every lesson.")
    assert message.visibility == Visibility.EVERYONE
    assert message.author_kind == ActorKind.MERCHANT and message.created_at == event.created_at
    assert sorted(message.attachments.values_list("original_name", flat=True)) == ["access-log.pdf", "logins.png"]
    assert len(stored_files()) == 2


def test_deny_by_a_support_member_is_allowed():
    """Any member of the company may deny (owners, admins and support alike)."""
    scene = case_in_state("open")
    support = MembershipFactory(company=scene.case.company, role=Membership.Role.SUPPORT).user

    deny(scene, actor=support, reason=DenialReason.OTHER, message="See our FAQ.")

    assert scene.refresh().denial_reason == DenialReason.OTHER


@pytest.mark.parametrize(
    ("who", "refusal"),
    [("customer", NotAllowedError), ("other_merchant", NotAllowedError), ("reviewer", NotAllowedError)],
)
def test_deny_by_anyone_but_a_member_is_refused_and_saves_nothing(who, refusal):
    """The customer, another company's merchant and a reviewer cannot deny; nothing is written."""
    scene = case_in_state("open")
    actor = getattr(scene, who)

    before = (CaseEvent.objects.count(), Message.objects.count(), Attachment.objects.count())
    with pytest.raises(refusal):
        deny(scene, actor=actor, files=[png()])

    assert scene.refresh().status == CaseStatus.OPEN and scene.case.denial_reason == ""
    assert (CaseEvent.objects.count(), Message.objects.count(), Attachment.objects.count()) == before
    assert stored_files() == []


@pytest.mark.parametrize("state", ["escalated", "accepted", "denied", "appealed", "final"])
def test_deny_in_a_state_that_is_not_waiting_on_the_merchant_is_refused(state):
    """Only open and info-requested cases can be denied; the others answer 409 with the state."""
    scene = case_in_state(state)

    with pytest.raises(InvalidTransitionError, match="so you can no longer deny it"):
        deny(scene)


def test_deny_at_the_deadline_goes_through_and_after_it_is_refused():
    """The merchant may deny up to the very second respond_by ends, not a second later."""
    at_deadline = case_in_state("open")
    deny(at_deadline, now=at_deadline.case.respond_by)
    assert at_deadline.refresh().status == CaseStatus.DENIED

    after = case_in_state("open")
    with pytest.raises(InvalidTransitionError, match="The deadline to answer passed"):
        deny(after, now=after.case.respond_by + timedelta(seconds=1))
    assert after.refresh().status == CaseStatus.OPEN


def test_deny_while_info_requested_after_reply_by_is_refused():
    """Once the customer's reply_by has passed the case is about to be denied by the clock, not by hand."""
    scene = case_in_state("info_requested")

    with pytest.raises(InvalidTransitionError):
        deny(scene, now=scene.case.reply_by + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("overrides", "message_part"),
    [
        ({"reason": ""}, "Please choose why you deny the refund."),
        ({"reason": None}, "Please choose why you deny the refund."),
        ({"reason": "too_late"}, "Please choose why you deny the refund."),
        ({"message": ""}, "Please write a message to the customer explaining the denial."),
        ({"message": "  \n "}, "Please write a message to the customer explaining the denial."),
        ({"message": "x" * 5001}, "at most 5000 characters"),
        ({"files": [png(), png(), png(), png()]}, "at most 3 files"),
        ({"files": [png(), SimpleUploadedFile("notes.html", b"<html>hi</html>")]}, "is not an accepted file type"),
    ],
    ids=[
        "no_reason",
        "reason_none",
        "unknown_reason",
        "no_message",
        "blank_message",
        "long_message",
        "4_files",
        "html",
    ],
)
def test_deny_bad_input_is_refused_and_saves_nothing(overrides, message_part):
    """A denial without a reason or a message, with 4 files or a file of a refused type, is refused
    before anything is written: the case stays open, no event, message or file."""
    scene = case_in_state("open")

    assert_refused_and_untouched(lambda: deny(scene, **overrides), message_part)


def test_deny_over_the_upload_quota_removes_the_files_already_written(settings):
    """A file refused after the others were written (the day's upload allowance) rolls back the
    denial and removes every file it wrote from storage."""
    settings.RESOLUTION = {**settings.RESOLUTION, "MAX_UPLOAD_FILES_PER_DAY": 1}
    scene = case_in_state("open")

    with pytest.raises(ApplicationError, match="at most 1 files in 24 hours"):
        deny(scene, files=[png("a.png"), png("b.png")])

    assert scene.refresh().status == CaseStatus.OPEN
    assert not Attachment.objects.exists() and stored_files() == []


# --- denials nobody gave a reason for -----------------------------------------------------------------


@pytest.mark.parametrize(("via", "decided_by"), [("reviewer", ActorKind.REVIEWER), ("silence", ActorKind.SYSTEM)])
def test_denial_by_reviewer_or_silence_leaves_the_reason_blank_and_names_who_decided(via, decided_by):
    """ "Merchant wins" and the customer's silence deny the case without a reason; the case says who
    decided instead."""
    scene = case_in_state("denied", via=via)

    assert scene.case.status == CaseStatus.DENIED
    assert scene.case.denial_reason == ""
    assert scene.case.decided_by_kind == decided_by


def test_reason_stays_after_the_denial_becomes_final():
    """The merchant's reason stays on the case once the customer accepts the denial (final, denied)."""
    scene = case_in_state("final", via="denied")

    assert scene.case.outcome == "denied" and scene.case.denial_reason == DenialReason.DELIVERED_AS_DESCRIBED


# --- appeals carry files ------------------------------------------------------------------------------


def test_customer_appeal_stores_the_statement_as_a_message_with_files():
    """The customer appeals a denial with new evidence: the statement becomes a message for both
    parties (and the reviewers) carrying the files; the APPEALED event notes the statement."""
    scene = case_in_state("denied")

    services.case_appeal(
        case=scene.case,
        actor=scene.customer,
        statement="The box was empty, see the photo.",
        files=[png("empty-box.png"), pdf("courier.pdf")],
        now=scene.later(hours=1),
    )

    case = scene.refresh()
    assert case.status == CaseStatus.APPEALED and case.appealed_by_kind == ActorKind.CUSTOMER
    message = Message.objects.get(case=case, body="The box was empty, see the photo.")
    assert message.visibility == Visibility.EVERYONE and message.author_kind == ActorKind.CUSTOMER
    assert sorted(message.attachments.values_list("original_name", flat=True)) == ["courier.pdf", "empty-box.png"]
    assert case.events.get(action=CaseEvent.Action.APPEALED).note == "The box was empty, see the photo."


def test_merchant_appeal_of_a_reviewers_refund_carries_files():
    """The merchant appeals a reviewer's refund with files, the same way."""
    scene = case_in_state("accepted")

    services.case_appeal(
        case=scene.case,
        actor=scene.merchant,
        statement="Signed delivery receipt attached.",
        files=[pdf("receipt.pdf")],
        now=scene.later(hours=1),
    )

    case = scene.refresh()
    assert case.status == CaseStatus.APPEALED and case.appealed_by_kind == ActorKind.MERCHANT
    message = Message.objects.get(case=case, body="Signed delivery receipt attached.")
    assert message.author_kind == ActorKind.MERCHANT
    assert list(message.attachments.values_list("original_name", flat=True)) == ["receipt.pdf"]


def test_appeal_without_files_still_works():
    """Files are optional: an appeal with a statement alone goes through."""
    scene = case_in_state("denied")

    services.case_appeal(case=scene.case, actor=scene.customer, statement="Please look again.", now=scene.later())

    assert scene.refresh().status == CaseStatus.APPEALED
    assert not Attachment.objects.filter(case=scene.case, message__body="Please look again.").exists()


@pytest.mark.parametrize(
    ("files", "message_part"),
    [
        ([png(), png(), png(), png()], "at most 3 files"),
        ([pdf(), SimpleUploadedFile("run.exe", b"MZ\x90\x00" * 10)], "is not an accepted file type"),
    ],
    ids=["4_files", "bad_type"],
)
@pytest.mark.parametrize("state", ["denied", "accepted"])
def test_appeal_with_bad_files_is_refused_and_saves_nothing(state, files, message_part):
    """4 files, or one of a refused type, refuse the appeal of either side before anything is written."""
    scene = case_in_state(state)
    appellant = scene.customer if state == "denied" else scene.merchant

    assert_refused_and_untouched(
        lambda: services.case_appeal(
            case=scene.case, actor=appellant, statement="Look again.", files=files, now=scene.later()
        ),
        message_part,
    )


def test_appeal_after_appeal_by_is_refused_with_its_files_unsaved():
    """Past the appeal window the appeal is refused and its files are not kept."""
    scene = case_in_state("denied")

    with pytest.raises(InvalidTransitionError):
        services.case_appeal(
            case=scene.case,
            actor=scene.customer,
            statement="Too late?",
            files=[png()],
            now=scene.case.appeal_by + timedelta(seconds=1),
        )

    assert scene.refresh().status == CaseStatus.DENIED
    assert stored_files() == []


def test_appeal_over_the_upload_quota_removes_the_files_already_written(settings):
    """As for messages: a file refused by the daily allowance after others were written rolls the
    appeal back and removes those files."""
    scene = case_in_state("denied")
    settings.RESOLUTION = {**settings.RESOLUTION, "MAX_UPLOAD_FILES_PER_DAY": 1}

    with pytest.raises(ApplicationError, match="in 24 hours"):
        services.case_appeal(
            case=scene.case, actor=scene.customer, statement="Two photos.", files=[png(), png()], now=scene.later()
        )

    assert scene.refresh().status == CaseStatus.DENIED and not scene.case.appealed
    assert not Attachment.objects.exists() and stored_files() == []
