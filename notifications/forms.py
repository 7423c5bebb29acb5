import zoneinfo

from django import forms


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.Form):
    resolution_center_emails = forms.BooleanField(
        required=False,
        label="Resolution Center emails",
        help_text="Email me when something happens on my cases. Your notifications list in the app is kept either way.",
    )
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices,
        label="Time zone",
        help_text="Deadlines in emails and on every page are shown in this time zone.",
    )
