"""Request-level protections: the request-body limit, session lifetimes, the sign-in throttle's
view of who is asking.

- ``RequestBodyLimitMiddleware`` answers 413 from the Content-Length header alone, before any
  middleware or view reads the body (CSRF reads request.POST, which would read it all).
- ``SessionLimitsMiddleware`` ends a signed-in session after SESSION_IDLE_TIMEOUT seconds without
  a request, SESSION_ABSOLUTE_TIMEOUT seconds after sign-in whatever the activity, and at once when
  its user can no longer sign in (deactivated or deleted). "Ends" means the session row is deleted
  on the server, not only the cookie forgotten.
- ``client_ip`` is the address the sign-in throttle counts failures against: REMOTE_ADDR, or with
  TRUSTED_PROXY_COUNT reverse proxies in front, the address the outermost trusted proxy saw.
- ``SignInThrottleHandler`` counts failures like axes' database handler, but a successful sign-in
  forgives only the failures of the account that signed in.
"""

import logging

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone

security_log = logging.getLogger("resolution_center.security")

SESSION_LOGIN_AT = "_rc_login_at"
SESSION_LAST_SEEN = "_rc_last_seen"
# Writing the session on every request would cost a database write per page; a minute's
# precision on an idle timeout of many minutes costs nothing.
LAST_SEEN_RESOLUTION_SECONDS = 60


def _now_seconds() -> int:
    return int(timezone.now().timestamp())


class RequestBodyLimitMiddleware:
    """Refuse a request whose declared body is larger than REQUEST_BODY_MAX_BYTES, unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads an unparsable length as an empty body, too.
        limit = settings.REQUEST_BODY_MAX_BYTES
        if declared > limit:
            security_log.info(
                "request body refused: %s bytes declared, limit %s, path=%s", declared, limit, request.path
            )
            return render(
                request,
                "413.html",
                {"limit_mb": limit // (1024 * 1024), "per_file_mb": settings.RESOLUTION["MAX_FILE_BYTES"] // 2**20},
                status=413,
            )
        return self.get_response(request)


class SessionLimitsMiddleware:
    """Idle and absolute session lifetimes, and sessions of users who may no longer sign in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            self._enforce(request, session)
        return self.get_response(request)

    def _enforce(self, request, session) -> None:
        user = request.user
        if not user.is_authenticated:
            # The session names a user who is gone or deactivated (ModelBackend refuses inactive
            # users): delete the session server-side instead of leaving it to expire.
            security_log.info("session ended: user #%s can no longer sign in", session.get(SESSION_KEY))
            session.flush()
            return
        now = _now_seconds()
        login_at = session.setdefault(SESSION_LOGIN_AT, now)
        last_seen = session.get(SESSION_LAST_SEEN, login_at)
        if now - login_at >= settings.SESSION_ABSOLUTE_TIMEOUT:
            hours = settings.SESSION_ABSOLUTE_TIMEOUT // 3600
            self._end(request, f"You were signed out {hours} hours after signing in.")
        elif now - last_seen >= settings.SESSION_IDLE_TIMEOUT:
            minutes = settings.SESSION_IDLE_TIMEOUT // 60
            self._end(request, f"You were signed out after {minutes} minutes without activity.")
        elif now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS or SESSION_LAST_SEEN not in session:
            session[SESSION_LAST_SEEN] = now

    @staticmethod
    def _end(request, why: str) -> None:
        user_id = request.user.pk
        logout(request)  # flushes the session row and rotates the CSRF token
        security_log.info("session ended: user #%s, %s", user_id, why)
        messages.info(request, f"{why} Please sign in again.")


@receiver(user_logged_in, dispatch_uid="resolution_center.security.session_clock_start")
def session_clock_start(sender, request, user, **kwargs):
    """Both session clocks start at sign-in (login() already gave the session a new key)."""
    if request is not None and hasattr(request, "session"):
        now = _now_seconds()
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_LAST_SEEN] = now


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' check that refuses sign-ins for a locked-out account or address.

    Every sign-in through the web (the sign-in page, the admin's) carries its request and is
    checked. ``authenticate()`` calls without a request — the test client's ``login()``, a shell —
    have no address to count against; axes would raise for them, this backend lets the next
    backend decide instead.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class SignInThrottleHandler(AxesDatabaseHandler):
    """axes' database handler, with AXES_RESET_ON_SUCCESS limited to the account that signed in.

    axes resets with one query per lockout parameter, so with ``["username", "ip_address"]`` a
    sign-in also deletes every failure *from that address*, whichever account it was against:
    anyone with an account could guess another account's password limit-1 times, sign in as
    themselves, and guess again, for ever. Here a success deletes only the rows of its own
    account (from any address, as axes' username reset does); other accounts' failures from the
    same address keep counting against both that account and the address.
    """

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def client_ip(request) -> str | None:
    """The client's address as the outermost of TRUSTED_PROXY_COUNT proxies saw it.

    Each proxy appends the address it received the request from to X-Forwarded-For; only the
    entries our own proxies appended can be trusted, the rest is whatever the client sent.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
