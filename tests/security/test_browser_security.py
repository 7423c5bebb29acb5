"""Item 5: Content Security Policy, HSTS, nosniff, Referrer-Policy, cookie flags, and error pages
that show no internals."""

import importlib
import re
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.template import Context, Template
from django.test import Client, RequestFactory

from tests.factories import UserFactory

from .urls import INTERNAL_DETAIL

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456789"  # tests.factories.UserFactory
ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
]


def _csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def production(settings, monkeypatch):
    """The test settings with production's security settings laid over them, read from the real
    resolution_center.settings.production module (loaded with the variables it demands)."""
    monkeypatch.setenv("SECRET_KEY", "k" * 20 + "-production-test-secret-that-is-long-enough")
    monkeypatch.setenv("ALLOWED_HOSTS", "testserver")
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.invalid:5432/app")
    module = importlib.reload(importlib.import_module("resolution_center.settings.production"))
    for name in PRODUCTION_SECURITY_SETTINGS:
        setattr(settings, name, getattr(module, name))
    return settings


def _sign_in(client, *, secure: bool):
    user = UserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}, secure=secure)
    assert response.status_code == 302
    return response


def _cookie_headers(response) -> dict[str, str]:
    """Each Set-Cookie header as sent, keyed by cookie name."""
    return {morsel.key: morsel.OutputString().lower() for morsel in response.cookies.values()}


# --- Content Security Policy ---------------------------------------------------------------


def test_csp_header_forbids_plugins_base_framing_and_inline_script(client):
    """Every page carries a CSP: object-src, base-uri and frame-ancestors 'none', and scripts only
    from our own origin (no 'unsafe-inline', no 'unsafe-eval')."""
    policy = _csp(client.get("/accounts/login/"))
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert "'self'" in policy["script-src"]
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:"):
        assert unsafe not in policy["script-src"]


def test_csp_inline_script_runs_only_with_this_requests_nonce():
    """An inline script is allowed only when it carries the nonce of this very response."""
    from csp.middleware import CSPMiddleware

    template = Template('<script nonce="{{ request.csp_nonce }}">start()</script>')

    def view(request):
        return HttpResponse(template.render(Context({"request": request})))

    response = CSPMiddleware(view)(RequestFactory().get("/"))
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in _csp(response)["script-src"]
    other = CSPMiddleware(view)(RequestFactory().get("/"))
    assert f"'nonce-{nonce}'" not in _csp(other)["script-src"]


def test_templates_have_no_inline_code_the_policy_would_block():
    """No page template holds an inline <script> without a nonce, an on…= handler, a javascript:
    URL or a style="" attribute — the CSP would block them, so a page would silently break."""
    problems, checked = [], set()
    for template in sorted(ROOT.glob("**/templates/**/*.html")):
        # E-mail bodies are not served under the site's CSP; mail clients need inline styles.
        if ".venv" in template.parts or "emails" in template.parts:
            continue
        checked.add(str(template.relative_to(ROOT)))
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag:
                problems.append(f"{template.relative_to(ROOT)}: inline {tag}")
        for pattern in (r"\son[a-z]+\s*=", r"javascript:", r"\sstyle\s*="):
            if re.search(pattern, text, flags=re.IGNORECASE):
                problems.append(f"{template.relative_to(ROOT)}: {pattern}")
    assert {"templates/base.html", "templates/cases/_timeline.html", "templates/cases/_status.html"} <= checked
    assert problems == []


# --- Other headers ---------------------------------------------------------------------------


def test_every_response_sends_nosniff_referrer_policy_and_no_framing(client):
    """nosniff, a same-origin Referrer-Policy, X-Frame-Options DENY and a same-origin opener policy."""
    response = client.get("/accounts/login/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_production_sends_hsts_with_subdomains_and_preload(production):
    """Over HTTPS, production tells browsers to use only HTTPS for a year, subdomains included."""
    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_redirects_plain_http_to_https_except_health_check(production):
    """A plain-HTTP request is sent to HTTPS; the load balancer's /healthz is answered as is."""
    client = Client()
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200


# --- Cookies ---------------------------------------------------------------------------------


def test_session_cookie_httponly_samesite_lax_in_every_environment(client):
    """Even in development and tests, the session cookie is out of JavaScript's reach and not sent
    on cross-site requests."""
    response = _sign_in(client, secure=False)
    cookie = _cookie_headers(response)[django_settings.SESSION_COOKIE_NAME]
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_production_cookies_secure_httponly_samesite_host_prefixed(production):
    """In production the session cookie is Secure, HttpOnly, SameSite=Lax and __Host- prefixed
    (host-only, path /); the CSRF cookie is Secure and SameSite=Lax too."""
    client = Client()
    client.get("/accounts/login/", secure=True)
    response = _sign_in(client, secure=True)
    cookies = _cookie_headers(response)

    session = cookies["__Host-session"]
    for flag in ("secure", "httponly", "samesite=lax", "path=/"):
        assert flag in session
    assert "domain=" not in session
    csrf = cookies["__Host-csrftoken"]
    assert "secure" in csrf and "samesite=lax" in csrf and "path=/" in csrf


def test_production_cookie_header_parses_with_all_flags(production):
    """The raw Set-Cookie line a browser receives, parsed back, keeps every flag."""
    response = _sign_in(Client(), secure=True)
    raw = str(response.cookies["__Host-session"])
    parsed = SimpleCookie(raw.removeprefix("Set-Cookie: "))["__Host-session"]
    assert parsed["secure"] is True and parsed["httponly"] is True
    assert parsed["samesite"] == "Lax"


# --- Error pages -----------------------------------------------------------------------------


def test_404_page_is_ours_without_internals(client):
    """An unknown address shows the product's own 404 page, not Django's technical one."""
    response = client.get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "We couldn’t find that page" in body
    assert "URLconf" not in body and "Traceback" not in body and "DEBUG" not in body


@pytest.mark.urls("tests.security.urls")
def test_500_page_is_ours_and_hides_the_exception(client):
    """A crash shows the product's own 500 page; the exception's text never reaches the browser."""
    client.raise_request_exception = False
    response = client.get("/test-errors/500/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert INTERNAL_DETAIL not in body and "RuntimeError" not in body and "Traceback" not in body


@pytest.mark.urls("tests.security.urls")
def test_403_page_is_ours_and_hides_the_reason(client):
    """A refused permission shows the product's 403 page without the internal reason."""
    response = client.get("/test-errors/403/")
    body = response.content.decode()
    assert response.status_code == 403
    assert "You can’t do that here" in body
    assert INTERNAL_DETAIL not in body


def test_csrf_failure_page_is_ours_and_explains_what_to_do(client):
    """A form sent without a valid CSRF token gets the product's 403 page telling the person to
    reload and try again — not Django's developer explanation."""
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "a@example.test", "password": "x"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in body
    assert "CSRF_COOKIE" not in body and "Help" not in body
