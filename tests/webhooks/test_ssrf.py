"""In production a webhook URL that resolves to a private, loopback or link-local address is refused,
both when the endpoint is saved and when an event is sent (the name may resolve differently later)."""

import socket

import pytest

from tests.factories import CompanyFactory, merchant_of
from webhooks import transport
from webhooks.services import webhook_endpoint_create
from webhooks.transport import UnsafeUrlError, url_check


@pytest.fixture
def production_guard(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_URLS": False}


def resolving_to(monkeypatch, address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    monkeypatch.setattr(
        transport.socket, "getaddrinfo", lambda host, port, **kw: [(family, socket.SOCK_STREAM, 6, "", (address, port))]
    )


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "private"),
        ("100.64.0.1", "not public"),
    ],
)
def test_a_url_resolving_to_a_non_public_address_is_refused_in_production(
    production_guard, monkeypatch, address, words
):
    resolving_to(monkeypatch, address)
    with pytest.raises(UnsafeUrlError, match=words):
        url_check("https://hooks.example.com/whop")


def test_a_public_address_is_accepted_and_pinned(production_guard, monkeypatch):
    resolving_to(monkeypatch, "93.184.216.34")
    target = url_check("https://hooks.example.com:8443/whop?x=1")
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com",
        8443,
        "/whop?x=1",
        "93.184.216.34",
    )


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/x", "must start with https://"),
        ("https://user:pw@example.com/x", "user name or password"),
        ("https:///nohost", "must start with https://"),
    ],
)
def test_urls_of_the_wrong_shape_are_refused(url, words):
    with pytest.raises(UnsafeUrlError, match=words):
        url_check(url)


def test_saving_an_endpoint_at_a_private_address_is_refused_with_the_reason(db, production_guard):
    company = CompanyFactory()
    with pytest.raises(UnsafeUrlError, match="loopback"):
        webhook_endpoint_create(
            actor=merchant_of(company),
            company_id=company.pk,
            url="http://127.0.0.1:9/x",
            events=["resolution_center_case.created"],
        )


def test_sending_to_a_name_that_now_resolves_privately_is_refused_without_connecting(production_guard, monkeypatch):
    """DNS rebinding: the name was public when saved; at send time it resolves to the metadata address."""
    resolving_to(monkeypatch, "169.254.169.254")
    monkeypatch.setattr(transport.socket, "create_connection", lambda *a, **k: pytest.fail("connected"))
    answer = transport.post("https://hooks.example.com/whop", body="{}", headers={})
    assert answer.status is None and "link-local" in answer.error


def test_development_and_tests_allow_a_local_receiver(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_URLS": True}
    assert url_check("http://127.0.0.1:8001/hooks").address == "127.0.0.1"


def test_production_settings_refuse_private_addresses_by_default():
    from resolution_center.settings import base

    assert base.WEBHOOKS["ALLOW_PRIVATE_URLS"] is False
