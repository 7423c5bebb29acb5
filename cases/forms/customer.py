"""The customer's forms: input validation only; the rules live in cases.services."""

from django import forms

from ..models import CaseReason
from ..services import MAX_DESCRIPTION, MAX_MESSAGE
from .fields import EvidenceFilesField, SubmissionForm


class ClaimForm(SubmissionForm):
    reason = forms.ChoiceField(
        label="What went wrong?",
        choices=CaseReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Please pick the reason that fits best."},
    )
    description = forms.CharField(
        label="Describe the problem",
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Tell the company what happened and what you expect. They will see this.",
        error_messages={"required": "Please describe the problem."},
    )
    files = EvidenceFilesField()

    def clean_description(self):
        text = self.cleaned_data["description"].strip()
        if not text:
            raise forms.ValidationError("Please describe the problem.")
        return text


class ReplyForm(SubmissionForm):
    """The answer to the merchant's request for more information."""

    message = forms.CharField(
        label="Your reply",
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Please write your reply."},
    )
    files = EvidenceFilesField()


class MessageForm(SubmissionForm):
    body = forms.CharField(
        label="Message",
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A message does not change the case's status or its deadline.",
        error_messages={"required": "Please write a message."},
    )
    files = EvidenceFilesField()


class AppealForm(SubmissionForm):
    statement = forms.CharField(
        label="Why do you appeal?",
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A platform reviewer will look at the whole case again. You can appeal only once.",
        error_messages={"required": "Please say why you appeal."},
    )
    files = EvidenceFilesField(label="New evidence files")


class OfferDeclineForm(SubmissionForm):
    """Declining a partial refund offer: the message answers the offer and any question with it."""

    message = forms.CharField(
        label="Your message to the merchant",
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Say why you decline and what you expect; it also answers any question they asked.",
        error_messages={"required": "Please write why you decline the offer."},
    )


class ConfirmForm(SubmissionForm):
    """Withdraw and accept-the-decision: the confirmation is the step on the page before it."""
