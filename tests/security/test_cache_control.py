"""Issue #11, section 4: every response to a signed-in person says ``Cache-Control: private,
no-store`` (OWASP ASVS V8.2.1); anonymous pages and static files keep their own caching."""

import pytest
from django.test import Client

from .conftest import png_file

pytestmark = pytest.mark.django_db

STATIC_FILE = "/static/css/app.css"
PASSWORD = "pw-123456789"  # tests.factories.UserFactory


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def _assert_not_stored(response, url):
    directives = _directives(response)
    assert {"private", "no-store"} <= directives, (url, response.status_code, response.get("Cache-Control"))
    assert "public" not in directives, url


@pytest.fixture
def case(open_case):
    return open_case(files=[png_file("kettle.png")])


@pytest.fixture
def pages(case, company, payment):
    """What each role reads: lists, a case, a form, a file, an export, an error page."""
    attachment = case.attachments.get()
    return {
        "customer": [
            "/",
            "/orders/",
            "/cases/",
            f"/cases/{case.pk}/",
            f"/files/{attachment.pk}/",
            "/notifications/",
            "/accounts/password/",
            "/no-such-page/",
        ],
        "merchant": [
            "/merchant/",
            f"/merchant/{company.pk}/",
            f"/merchant/{company.pk}/cases/",
            f"/merchant/{company.pk}/cases/{case.pk}/",
            f"/merchant/{company.pk}/cases/export.csv",
            f"/files/{attachment.pk}/",
        ],
        "reviewer": [
            "/",  # sends the reviewer on to the admin
            "/admin/",
            "/admin/cases/case/",
            f"/admin/cases/case/{case.pk}/change/",
            f"/files/{attachment.pk}/",
            "/admin/no-such-page/",
            "/no-such-page/",
        ],
    }


@pytest.mark.parametrize("role", ["customer", "merchant", "reviewer"])
def test_signed_in_pages_sent_private_no_store_static_keeps_its_caching(role, pages, customer, merchant, reviewer_user):
    """Every page a signed-in customer, merchant or reviewer (admin) reads — lists, a case, a
    file, the CSV export, a 404 — says private, no-store; the static files they load still come
    public and cacheable."""
    client = Client()
    client.force_login({"customer": customer, "merchant": merchant, "reviewer": reviewer_user}[role])

    for url in pages[role]:
        response = client.get(url)
        assert response.status_code in (200, 302, 404), (url, response.status_code)
        _assert_not_stored(response, url)

    static = client.get(STATIC_FILE)
    assert static.status_code == 200
    assert "public" in _directives(static) and "no-store" not in _directives(static)


def test_same_page_stored_only_while_signed_in(customer):
    """One browser: the home page and a 404 anonymous carry no no-store; the sign-in's own response
    and the pages after it do; after signing out the anonymous pages are as before."""
    client = Client()
    for url in ("/", "/no-such-page/"):
        assert "no-store" not in _directives(client.get(url)), url

    signed_in = client.post("/accounts/login/", {"username": customer.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    _assert_not_stored(signed_in, "sign-in")
    for url in ("/", "/no-such-page/"):
        _assert_not_stored(client.get(url), url)

    client.post("/accounts/logout/")
    for url in ("/", "/no-such-page/"):
        assert "no-store" not in _directives(client.get(url)), url
