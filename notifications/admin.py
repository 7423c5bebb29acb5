"""Notifications in admin: seen and searched, never edited. Rows and their email delivery state
are written only by notifications.services (a hand edit could resend or lose an email)."""

from django.contrib import admin

from payments.admin import IdSearchMixin, ReadOnlyModelAdmin

from .models import Notification, UserPreferences


@admin.register(Notification)
class NotificationAdmin(IdSearchMixin, ReadOnlyModelAdmin):
    search_id_field = "case_id"
    list_display = ("created_at", "case", "kind", "recipient", "party", "email_status", "email_attempts", "read_at")
    list_select_related = ("case", "recipient")
    list_filter = ("kind", "party", "email_status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("recipient__email", "subject")
    search_help_text = "Case id, recipient email or subject."
    ordering = ("-created_at", "-id")
    raw_id_fields = ("recipient", "case", "event")


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    """Created with each user; a superuser may correct a time zone or the email toggle."""

    list_display = ("user", "time_zone", "resolution_center_emails")
    list_select_related = ("user",)
    list_filter = ("resolution_center_emails",)
    search_fields = ("user__email",)
    raw_id_fields = ("user",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
