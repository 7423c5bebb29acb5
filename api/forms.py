from django import forms

from .models import Scope


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="So you can tell your keys apart, e.g. “Helpdesk sync”.", label="Key name"
    )
    scope = forms.ChoiceField(
        choices=Scope.choices,
        initial=Scope.READ,
        widget=forms.RadioSelect,
        label="What the key may do",
        help_text="Read only: list and read cases. Read and write: also answer them, as you would on the pages.",
    )


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name", help_text="E.g. “My scripts”.")
