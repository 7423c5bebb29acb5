"""Input validation for the reviewer's actions on the case page in admin; the rules live in
cases.services, which these forms only feed."""

from django import forms

from payments.models import ActorKind

from .models import Visibility
from .services import MAX_MESSAGE, Decision

NOTE_HELP = "Both parties read this note in their timelines and in the notification."


class DecisionForm(forms.Form):
    """Refund, credit or merchant wins: the same three on an escalated case and on an appeal."""

    decision = forms.ChoiceField(
        choices=Decision.CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Please choose refund, credit or merchant wins."},
    )
    note = forms.CharField(
        label="Note to the parties",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=MAX_MESSAGE,
        help_text=NOTE_HELP,
        error_messages={"required": "Please write a note to the parties explaining the decision."},
    )


class InfoRequestForm(forms.Form):
    """Ask one party for more information; only that party sees the question."""

    party = forms.ChoiceField(
        label="Ask",
        choices=[(ActorKind.CUSTOMER, "The customer"), (ActorKind.MERCHANT, "The merchant")],
        widget=forms.RadioSelect,
        error_messages={"required": "Please choose whether to ask the customer or the merchant."},
    )
    message = forms.CharField(
        label="What do you need to know?",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=MAX_MESSAGE,
        error_messages={"required": "Please write what information you need."},
    )


class ReviewerMessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=MAX_MESSAGE,
        error_messages={"required": "Please write a message."},
    )
    visibility = forms.ChoiceField(
        label="Who sees it",
        choices=Visibility.choices,
        initial=Visibility.EVERYONE,
        error_messages={"required": "Please choose who may see this message."},
    )


def first_error(form: forms.Form) -> str:
    """The first problem with the input, as one sentence for an admin message."""
    for field, errors in form.errors.items():
        if errors:
            label = form.fields[field].label if field in form.fields else None
            message = errors[0]
            if label and not message.startswith("Please") and field != "__all__":
                return f"{label}: {message}"
            return message
    return "Please check the form."
