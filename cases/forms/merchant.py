"""Input validation for the merchant's pages. Forms check shape only; the rules (who may, which
state, how many info requests) stay in cases.services and payments.services."""

from datetime import date, tzinfo
from decimal import Decimal, InvalidOperation

from django import forms

from payments.models import ActorKind
from resolution_center.formatting import MINOR_UNITS, SYMBOLS, minor_units_to_decimal, parse_money

from ..models import CaseReason
from ..presentation import status_choices
from ..selectors import CaseFilters
from ..services import MAX_MESSAGE
from .fields import EvidenceFilesField, SubmissionForm

# Large enough for any real threshold, small enough that minor units never overflow a bigint.
MAX_THRESHOLD_CENTS = 10**12


class CaseMessageForm(SubmissionForm):
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_MESSAGE,
        error_messages={"required": "Please write a message."},
    )
    files = EvidenceFilesField(label="Proof files")


class CaseRequestInfoForm(SubmissionForm):
    message = forms.CharField(
        label="What do you need from the customer?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_MESSAGE,
        error_messages={"required": "Please write what information you need."},
    )
    files = EvidenceFilesField(label="Files")


class CaseAcceptForm(SubmissionForm):
    note = forms.CharField(
        label="Note to the customer",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=MAX_MESSAGE,
        required=False,
    )
    confirm = forms.BooleanField(
        label="I understand the customer is refunded now and this cannot be undone.",
        error_messages={"required": "Please tick the box to confirm the refund; it cannot be undone."},
    )


class CaseRefundInFullForm(CaseAcceptForm):
    """Accept's form (an optional note, a confirmation), with words for closing at any stage."""

    confirm = forms.BooleanField(
        label="I understand the customer is refunded in full now, the case closes and this cannot be undone.",
        error_messages={"required": "Please tick the box to confirm the refund; it cannot be undone."},
    )


class CaseDenyForm(SubmissionForm):
    note = forms.CharField(
        label="Why you deny the refund (the customer sees this)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=MAX_MESSAGE,
        required=False,
    )
    confirm = forms.BooleanField(
        label="I understand a denial cannot be undone (the customer may appeal to the platform).",
        error_messages={"required": "Please tick the box to confirm the denial; it cannot be undone."},
    )


class CaseAppealForm(SubmissionForm):
    statement = forms.CharField(
        label="Why the platform should look again",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_MESSAGE,
        error_messages={"required": "Please write why you appeal."},
    )


class CaseAppealWaiveForm(SubmissionForm):
    confirm = forms.BooleanField(
        label="I accept the refund decision: the customer is refunded now and I give up my appeal.",
        error_messages={"required": "Please tick the box to confirm; this cannot be undone."},
    )


# --- lists ---------------------------------------------------------------------------------------

# The days a date filter may name. Beyond them a day's start in the reader's time zone (or the day
# after the last one) falls outside what datetime and the databases can hold; no case is that old
# or that new anyway.
FILTER_FIRST_DAY = date(1900, 1, 1)
FILTER_LAST_DAY = date(9998, 12, 31)


def _day_in_range(day: date | None) -> date | None:
    if day is not None and not FILTER_FIRST_DAY <= day <= FILTER_LAST_DAY:
        raise forms.ValidationError(
            f"Please enter a date between {FILTER_FIRST_DAY:%Y-%m-%d} and {FILTER_LAST_DAY:%Y-%m-%d}."
        )
    return day


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All active"), *status_choices(ActorKind.MERCHANT)]
    )
    reason = forms.ChoiceField(label="Reason", required=False, choices=[("", "Any reason"), *CaseReason.choices])
    opened_from = forms.DateField(
        label="Opened from", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    opened_to = forms.DateField(
        label="Opened until", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    closed = forms.BooleanField(label="Include closed cases", required=False)
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean_opened_from(self):
        return _day_in_range(self.cleaned_data.get("opened_from"))

    def clean_opened_to(self):
        return _day_in_range(self.cleaned_data.get("opened_to"))

    def clean(self):
        data = super().clean()
        start, end = data.get("opened_from"), data.get("opened_to")
        if start and end and start > end:
            self.add_error("opened_to", "The end date must be on or after the start date.")
        return data

    def filters(self, tz: tzinfo) -> CaseFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return CaseFilters(
            status=data.get("status", ""),
            reason=data.get("reason", ""),
            opened_from=data.get("opened_from"),
            opened_to=data.get("opened_to"),
            include_closed=data.get("closed", False),
            tz=tz,
        )


class PaymentSearchForm(forms.Form):
    q = forms.CharField(
        label="Search payments",
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": "pay-123, customer email or product"}),
    )
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)


# --- auto respond settings -----------------------------------------------------------------------


def money_for_input(amount_cents: int, currency: str) -> str:
    """Minor units as the plain number a person types: 1050 USD -> "10.50"; 0 -> "" (off)."""
    if not amount_cents:
        return ""
    return f"{minor_units_to_decimal(amount_cents, currency):.{MINOR_UNITS.get(currency, 2)}f}"


class AutoRespondForm(forms.Form):
    """Thresholds typed as money in the company's currency ("10", "10.50", "$1,000.00"),
    stored in minor units; empty or 0 turns the automatic refund off."""

    card_below = forms.CharField(label="Auto-refund card payments below", required=False, max_length=30)
    paypal_below = forms.CharField(label="Auto-refund PayPal payments below", required=False, max_length=30)
    message = forms.CharField(
        label="Message the customer sees with an automatic refund",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        symbol = SYMBOLS.get(currency, currency)
        for name in ("card_below", "paypal_below"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
            self.fields[name].help_text = f"In {currency} ({symbol}). Leave empty or 0 to turn it off."

    def _amount(self, name: str) -> int:
        text = self.cleaned_data.get(name, "").strip()
        symbol = SYMBOLS.get(self.currency)
        if symbol:
            text = text.replace(symbol, "", 1)
        text = text.upper().replace(self.currency, "").strip()
        if not text:
            return 0
        digits = MINOR_UNITS.get(self.currency, 2)
        example = f"{Decimal(1250).scaleb(-digits):.{digits}f}"
        try:
            cents = parse_money(text, self.currency)
        except (ValueError, InvalidOperation, ArithmeticError):
            if text.startswith("-"):
                raise forms.ValidationError("Please enter zero or a positive amount.") from None
            raise forms.ValidationError(
                f"Please enter an amount like {example}, with at most {digits} decimals."
            ) from None
        if cents > MAX_THRESHOLD_CENTS:
            raise forms.ValidationError("That amount is too large.")
        return cents

    def clean_card_below(self) -> int:
        return self._amount("card_below")

    def clean_paypal_below(self) -> int:
        return self._amount("paypal_below")
