"""The merchant's Developers page, included at ``merchant/<company_id>/developers/`` (namespace
"developers"), and the customer's personal tokens."""

from django.urls import path

from . import views

app_name = "developers"

urlpatterns = [
    path("", views.developers, name="home"),
    path("keys/<id:key_id>/revoke/", views.api_key_revoke_view, name="key-revoke"),
]

token_urlpatterns = [
    path("settings/api-tokens/", views.tokens, name="api-tokens"),
    path("settings/api-tokens/<id:token_id>/revoke/", views.token_revoke, name="api-token-revoke"),
]
