"""The project's exception tree: services raise these with a message a person can act on."""


class ApplicationError(Exception):
    """A business rule refused the request; ``message`` is safe to show to the user."""

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotAllowedError(ApplicationError):
    """The actor may not do this (wrong role, wrong party, wrong company)."""


class InvalidTransitionError(ApplicationError):
    """The case is not in a state where this action is possible."""


class NotEligibleError(ApplicationError):
    """A case cannot be opened for this payment."""


class ConcurrentUpdateError(ApplicationError):
    """Somebody else changed the row first; the action was not applied."""


class RateLimitedError(ApplicationError):
    """Too many actions in a short time; the message says when to try again."""


def http_status_for(error: ApplicationError) -> int:
    """The HTTP status a refused action answers with, on every page and in admin: never a 500 for
    something the user did."""
    if isinstance(error, NotAllowedError):
        return 403
    if isinstance(error, RateLimitedError):
        return 429
    # The case (or payment) moved on since the page was drawn: a conflict with its current state.
    if isinstance(error, InvalidTransitionError | ConcurrentUpdateError | NotEligibleError):
        return 409
    return 400
