from .auth import SignInForm
from .customer import AppealForm, ClaimForm, ConfirmForm, MessageForm, ReplyForm
from .fields import EvidenceFilesField, MultipleFileInput, SubmissionForm

__all__ = [
    "AppealForm",
    "ClaimForm",
    "ConfirmForm",
    "EvidenceFilesField",
    "MessageForm",
    "MultipleFileInput",
    "ReplyForm",
    "SignInForm",
    "SubmissionForm",
]
