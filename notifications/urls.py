from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="notification-list"),
    path("<id:notification_id>/open/", views.notification_open, name="notification-open"),
    path("<id:notification_id>/read/", views.notification_mark_read, name="notification-mark-read"),
    path("read-all/", views.notifications_mark_all_read, name="notification-mark-all-read"),
    path("settings/", views.preferences, name="preferences"),
    # The same pages on a merchant's side, under the company bar.
    path("company/<id:company_id>/", views.notification_list, name="merchant-list"),
    path("company/<id:company_id>/settings/", views.preferences, name="merchant-preferences"),
]
