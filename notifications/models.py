from django.conf import settings
from django.db import models


class UserPreferences(models.Model):
    """Per-user settings: the time zone deadlines are shown in, and the Resolution Center emails toggle."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    time_zone = models.CharField(max_length=64, default="UTC")
    resolution_center_emails = models.BooleanField(
        default=True, help_text="Send me Resolution Center emails (in-app notifications are always kept)."
    )

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
