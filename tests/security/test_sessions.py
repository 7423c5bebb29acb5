"""Item 6 (sessions): a new key at sign-in, sign-out ends the session on the server, idle and
absolute limits, and a deactivated user's sessions end."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
PASSWORD = "pw-123456789"  # tests.factories.UserFactory
PRIVATE_PAGE = "/cases/"


def _sign_in(client, user):
    response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, "the sign-in form should accept the factory password"
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _is_signed_in(client) -> bool:
    return client.get(PRIVATE_PAGE).status_code == 200


def test_sign_in_new_session_key_planted_key_dropped(client):
    """A session key that existed before sign-in (one an attacker could have planted) is replaced
    by a new one at sign-in, and the old key no longer exists on the server."""
    user = UserFactory()
    session = client.session
    session["planted"] = True
    session.save()
    planted_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=planted_key).exists()

    new_key = _sign_in(client, user)

    assert new_key != planted_key
    assert not Session.objects.filter(session_key=planted_key).exists()
    assert Session.objects.filter(session_key=new_key).exists()


def test_sign_out_session_deleted_on_server_old_cookie_useless(client, django_user_model):
    """Signing out deletes the session row; replaying the old cookie later gives no access."""
    from django.test import Client

    key = _sign_in(client, UserFactory())
    assert _is_signed_in(client)

    client.post("/accounts/logout/")

    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    response = replay.get(PRIVATE_PAGE)
    assert response.status_code == 302 and response.url.startswith(LOGIN_URL)


def test_idle_session_past_timeout_signed_out_with_reason(client):
    """No request for longer than SESSION_IDLE_TIMEOUT: the next request finds the person signed
    out (session row gone) and the sign-in page tells them why."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        key = _sign_in(client, UserFactory())
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 60))
        response = client.get(PRIVATE_PAGE, follow=True)
    assert response.redirect_chain[0][0].startswith(LOGIN_URL)
    assert "without activity" in response.content.decode()
    assert not Session.objects.filter(session_key=key).exists()


def test_idle_timeout_counts_from_last_request_not_sign_in(client):
    """A person who keeps using the site stays signed in past the idle timeout measured from
    sign-in: the idle clock restarts with each request."""
    step = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT * 2 // 3)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client, UserFactory())
        for _ in range(3):
            clock.shift(step)
            assert _is_signed_in(client)


def test_absolute_limit_ends_even_an_active_session(client):
    """However active, a session ends SESSION_ABSOLUTE_TIMEOUT after sign-in (never earlier)."""
    step = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT // 2)
    absolute = timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        signed_in_at = timezone.now()
        _sign_in(client, UserFactory())
        while timezone.now() + step < signed_in_at + absolute:
            clock.shift(step)
            assert _is_signed_in(client), f"signed out early, {timezone.now() - signed_in_at} after sign-in"
        clock.move_to(signed_in_at + absolute)
        response = client.get(PRIVATE_PAGE, follow=True)
    assert response.redirect_chain[0][0].startswith(LOGIN_URL)
    assert "after signing in" in response.content.decode()


def test_deactivated_user_next_request_signed_out_session_deleted(client):
    """When an account is deactivated, its open session stops working at the next request and
    the session row is deleted from the server."""
    user = UserFactory()
    key = _sign_in(client, user)
    assert _is_signed_in(client)

    user.is_active = False
    user.save(update_fields=["is_active"])

    response = client.get(PRIVATE_PAGE)
    assert response.status_code == 302 and response.url.startswith(LOGIN_URL)
    assert not Session.objects.filter(session_key=key).exists()


def test_deactivated_user_cannot_sign_in_again(client):
    """A deactivated account cannot start a new session either."""
    user = UserFactory(is_active=False)
    response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert not _is_signed_in(client)


def test_session_settings_documented_values():
    """The limits the deployment guide documents are the ones in force by default."""
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_TIMEOUT
