from .auth import SignInForm
from .customer import AppealForm, ClaimForm, ConfirmForm, MessageForm, OfferDeclineForm, ReplyForm
from .fields import EvidenceFilesField, MultipleFileInput, SubmissionForm

__all__ = [
    "AppealForm",
    "ClaimForm",
    "ConfirmForm",
    "EvidenceFilesField",
    "MessageForm",
    "MultipleFileInput",
    "OfferDeclineForm",
    "ReplyForm",
    "SignInForm",
    "SubmissionForm",
]
