"""The task cluster's jobs for API files."""

from . import services


def files_purge_daily() -> int:
    """Files never uploaded, refused, or past their retention (uploads.services.files_purge)."""
    return services.files_purge()
