"""Input validation for the merchant's pages. Forms check shape only; the rules (who may, which
state, how many info requests) stay in cases.services and payments.services."""

from datetime import date, tzinfo
from decimal import Decimal, InvalidOperation

from django import forms

from payments.models import ActorKind
from payments.services import POLICY_TEXT_LIMIT, POLICY_URL_LIMIT, policy_link_clean
from resolution_center.exceptions import ApplicationError
from resolution_center.formatting import MINOR_UNITS, SYMBOLS, format_money, minor_units_to_decimal, parse_money

from ..models import CaseReason, DenialReason
from ..presentation import status_choices
from ..selectors import CaseFilters
from ..services import MAX_MESSAGE, offer_amount_refusal
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
    """A denial says why (DOMAIN.md, "A denial says why"): a reason and a message, with files."""

    reason = forms.ChoiceField(
        label="Why you deny the refund",
        choices=[("", "Choose a reason"), *DenialReason.choices],
        error_messages={"required": "Please choose why you deny the refund."},
    )
    message = forms.CharField(
        label="Your message to the customer",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_MESSAGE,
        help_text="The customer reads your reason and this message at the top of their case page.",
        error_messages={"required": "Please write a message to the customer explaining the denial."},
    )
    files = EvidenceFilesField(label="Proof files")
    confirm = forms.BooleanField(
        label="I understand a denial cannot be undone (the customer may appeal to the platform).",
        error_messages={"required": "Please tick the box to confirm the denial; it cannot be undone."},
    )

    def clean_message(self):
        text = self.cleaned_data["message"].strip()
        if not text:
            raise forms.ValidationError("Please write a message to the customer explaining the denial.")
        return text


class CaseOfferForm(SubmissionForm):
    """A partial refund offer: an amount typed in the payment's currency, above zero and below what
    is left to refund (the service checks both again), and a message for the customer."""

    amount = forms.CharField(
        label="Amount to refund",
        max_length=30,
        error_messages={"required": "Please enter the amount you offer."},
    )
    message = forms.CharField(
        label="Message to the customer",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_MESSAGE,
        error_messages={"required": "Please write a message with your offer."},
    )

    def __init__(self, *args, payment, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.left_cents = payment.currency, payment.refundable_cents
        digits = MINOR_UNITS.get(self.currency, 2)
        example = f"{Decimal(self.left_cents // 2).scaleb(-digits):.{digits}f}"
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        self.fields["amount"].help_text = (
            f"In {self.currency}, for example {example}: more than {format_money(0, self.currency)} and less than "
            f"the {format_money(self.left_cents, self.currency)} left to refund."
        )

    def clean_amount(self) -> int:
        text = self.cleaned_data["amount"].strip()
        # A negative amount gets the offer's own bounds, not the settings' "zero or positive".
        cents = -1 if text.startswith("-") else money_from_input(text, self.currency)
        refusal = offer_amount_refusal(amount_cents=cents, left_cents=self.left_cents, currency=self.currency)
        if refusal:
            raise forms.ValidationError(refusal)
        return cents


class CaseAppealForm(SubmissionForm):
    statement = forms.CharField(
        label="Why the platform should look again",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_MESSAGE,
        error_messages={"required": "Please write why you appeal."},
    )
    files = EvidenceFilesField(label="New evidence files")


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


def money_from_input(text: str, currency: str) -> int:
    """An amount as a person types it in ``currency`` ("10", "10.50", "$1,000.00", "25 USD") in
    minor units; "" is 0. Raises a ValidationError that says what to type instead."""
    text = (text or "").strip()
    symbol = SYMBOLS.get(currency)
    if symbol:
        text = text.replace(symbol, "", 1)
    text = text.upper().replace(currency, "").strip()
    if not text:
        return 0
    digits = MINOR_UNITS.get(currency, 2)
    example = f"{Decimal(1250).scaleb(-digits):.{digits}f}"
    try:
        cents = parse_money(text, currency)
    except (ValueError, InvalidOperation, ArithmeticError):
        if text.startswith("-"):
            raise forms.ValidationError("Please enter zero or a positive amount.") from None
        raise forms.ValidationError(f"Please enter an amount like {example}, with at most {digits} decimals.") from None
    if cents > MAX_THRESHOLD_CENTS:
        raise forms.ValidationError("That amount is too large.")
    return cents


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
        return money_from_input(self.cleaned_data.get(name, ""), self.currency)

    def clean_card_below(self) -> int:
        return self._amount("card_below")

    def clean_paypal_below(self) -> int:
        return self._amount("paypal_below")


# --- refund policy and terms -----------------------------------------------------------------------


class CompanyPoliciesForm(forms.Form):
    """The company's refund policy and terms: each a text, a link, or both (payments.services checks
    them again: the link must be an http(s) address)."""

    refund_policy_text = forms.CharField(
        label="Refund policy text",
        required=False,
        max_length=POLICY_TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Customers read this on the refund request form, before they send it.",
    )
    refund_policy_url = forms.CharField(
        label="Link to your refund policy",
        required=False,
        max_length=POLICY_URL_LIMIT,
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url"}),
        help_text="A web address starting with https:// (or http://).",
    )
    terms_text = forms.CharField(
        label="Terms text",
        required=False,
        max_length=POLICY_TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    terms_url = forms.CharField(
        label="Link to your terms",
        required=False,
        max_length=POLICY_URL_LIMIT,
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url"}),
        help_text="A web address starting with https:// (or http://).",
    )

    def _link(self, name: str, what: str) -> str:
        try:
            return policy_link_clean(self.cleaned_data.get(name, ""), what=what)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None

    def clean_refund_policy_url(self) -> str:
        return self._link("refund_policy_url", "refund policy")

    def clean_terms_url(self) -> str:
        return self._link("terms_url", "terms")
