"""Form pieces shared by the customer's and the merchant's pages."""

import re
import secrets

from django import forms
from django.conf import settings

from resolution_center.exceptions import ApplicationError

from ..attachments import ALLOWED_DESCRIPTION, attachments_check

ACCEPT_ATTRIBUTE = "image/png,image/jpeg,image/gif,image/webp,application/pdf,video/mp4,video/webm,video/quicktime"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class EvidenceFilesField(forms.FileField):
    """Up to MAX_FILES_PER_MESSAGE files, each checked from its content before anything is saved.

    ``cleaned_data`` holds the list of uploads (possibly empty); the services check them again,
    so this is only about showing the error next to the field.
    """

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        limits = settings.RESOLUTION
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Files")
        kwargs.setdefault(
            "help_text",
            f"Optional. Up to {limits['MAX_FILES_PER_MESSAGE']} files: {ALLOWED_DESCRIPTION}; "
            f"at most {limits['MAX_FILE_BYTES'] // (1024 * 1024)} MB each.",
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ACCEPT_ATTRIBUTE)
        self.widget.attrs.setdefault("data-max-files", str(limits["MAX_FILES_PER_MESSAGE"]))

    def clean(self, data, initial=None):
        uploads = [item for item in (data or []) if item] if isinstance(data, list | tuple) else [data] if data else []
        try:
            attachments_check(uploads)
        except ApplicationError as error:
            raise forms.ValidationError(error.message, code="invalid_file") from None
        return uploads


def new_submission_token() -> str:
    return secrets.token_hex(16)


class SubmissionForm(forms.Form):
    """A form that carries a one-time token, so a second click on the same rendered form is
    recognised and does nothing (see cases.views.common.submission_claim).

    Several of these share one page, so each names its fields' ids after its class
    ("ReplyForm" -> "reply_message") and every label points at its own field; a class used
    twice on a page is given ``auto_id`` by the view."""

    submission_token = forms.CharField(widget=forms.HiddenInput, required=False, initial=new_submission_token)

    def __init__(self, *args, **kwargs):
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower().removesuffix("_form")
        kwargs.setdefault("auto_id", f"{name}_%s")
        super().__init__(*args, **kwargs)
