from django import forms

from .models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        help_text="Where we POST each event, e.g. https://example.com/hooks/whop. Redirects are not followed.",
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    events = forms.MultipleChoiceField(
        label="Events to send",
        choices=[(value, f"{value} — {label.lower()}") for value, label in EventType.choices],
        initial=list(EventType.values),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Please choose at least one event to send."},
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
