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
