"""Included at ``merchant/<company_id>/developers/webhooks/`` with namespace "webhooks"."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoints"),
    path("<id:endpoint_id>/", views.endpoint_detail, name="endpoint"),
    path("<id:endpoint_id>/rotate/", views.endpoint_rotate, name="endpoint-rotate"),
    path("<id:endpoint_id>/enabled/", views.endpoint_enabled, name="endpoint-enabled"),
    path("<id:endpoint_id>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("<id:endpoint_id>/events/<id:event_id>/resend/", views.event_resend, name="event-resend"),
]
