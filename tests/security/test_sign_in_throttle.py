"""Item 6 (sign-in): failed sign-ins are throttled per account and per address by django-axes,
counted in the database so that every process sees the same count."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.factories import UserFactory

LOGIN_URL = "/accounts/login/"
PASSWORD = "pw-123456789"  # tests.factories.UserFactory
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("sign_in_attempts.py")


def _attempt(username, password, address):
    return Client(REMOTE_ADDR=address).post(LOGIN_URL, {"username": username, "password": password})


@pytest.mark.django_db
def test_failed_sign_ins_lock_the_account_from_any_address():
    """After AXES_FAILURE_LIMIT wrong passwords for one account — each from a different address,
    so no address reaches the limit — even the right password is refused with 429."""
    user = UserFactory()
    limit = settings.AXES_FAILURE_LIMIT
    codes = [_attempt(user.username, "wrong", f"198.51.100.{i}").status_code for i in range(1, limit + 1)]
    assert codes[: limit - 1] == [400] * (limit - 1)

    response = _attempt(user.username, PASSWORD, "203.0.113.99")

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    # Another account, from that same fresh address, is not affected.
    assert _attempt(UserFactory().username, PASSWORD, "203.0.113.99").status_code == 302


@pytest.mark.django_db
def test_failed_sign_ins_lock_the_address_for_every_account():
    """After AXES_FAILURE_LIMIT failures from one address — each against a different account —
    that address cannot sign anyone in, while the same account signs in from elsewhere."""
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        _attempt(f"guess{i}@example.test", "wrong", "192.0.2.7")
    user = UserFactory()

    assert _attempt(user.username, PASSWORD, "192.0.2.7").status_code == 429
    assert _attempt(user.username, PASSWORD, "192.0.2.8").status_code == 302


@pytest.mark.django_db
def test_fewer_failures_than_the_limit_then_right_password_signs_in():
    """Typos are forgiven: below the limit the right password still works."""
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _attempt(user.username, "wrong", "192.0.2.20")
    assert _attempt(user.username, PASSWORD, "192.0.2.20").status_code == 302


@pytest.mark.django_db
def test_client_address_behind_trusted_proxy_is_the_forwarded_one(settings):
    """Behind TRUSTED_PROXY_COUNT proxies, failures count against the client's address (the one
    our proxy appended), not the proxy's own — or one typo-prone office would lock everybody."""
    from resolution_center.security import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    request = Client().get("/healthz").wsgi_request
    request.META.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.9.9.9, 198.51.100.23"})
    # "10.9.9.9" is whatever the client claimed; only the entry our proxy added is trusted.
    assert client_ip(request) == "198.51.100.23"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"


@pytest.fixture
def shared_database(tmp_path):
    """Environment for child processes that use the same database as this test.

    PostgreSQL: the test database itself (the test runs with transaction=True, so its rows are
    committed and visible). SQLite: the test database is in memory, invisible to other processes,
    so a migrated file database stands in.
    """
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "resolution_center.settings.test", "PYTHONPATH": str(ROOT)}
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        port = db.get("PORT") or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300
        )
    return env


def _in_another_process(env, *args) -> dict:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_account_lockout_holds_across_two_processes(shared_database):
    """Failures made by one process count in another: process A fails 3 times, process B fails
    twice (5 in all, the limit) and B's right password is then refused. Neither process alone
    reached the limit, so only a count shared through the database can refuse it."""
    assert settings.AXES_FAILURE_LIMIT == 5
    username = "shared-lockout@example.test"
    _in_another_process(shared_database, "create-user", username, PASSWORD)

    first = _in_another_process(shared_database, "attempt", username, "wrong", 3, "198.51.100.1")
    second = _in_another_process(shared_database, "attempt", username, "wrong", 2, "198.51.100.2")
    final = _in_another_process(shared_database, "attempt", username, PASSWORD, 1, "198.51.100.3")

    assert first["codes"] == [400, 400, 400]
    assert second["codes"][0] == 400
    assert final["codes"] == [429]


SIGN_IN_PAGES = {"product": LOGIN_URL, "admin": "/admin/login/"}


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(SIGN_IN_PAGES))
def test_own_sign_in_between_guesses_at_another_account_still_locks_it(page):
    """The attack: from one address, guess the victim's password AXES_FAILURE_LIMIT-1 times, sign
    in with your own account from that address, guess again. Your success must not forgive the
    failures against the victim: the next wrong guess reaches the limit and even the victim's
    right password is refused from there (429). On both sign-in pages; the attacker is staff so
    the admin page signs them in too."""
    url = SIGN_IN_PAGES[page]
    victim, attacker = UserFactory(), UserFactory(is_staff=True)
    address = "198.51.100.66"
    client = Client(REMOTE_ADDR=address)

    def guess(username, password):
        return client.post(url, {"username": username, "password": password})

    limit = settings.AXES_FAILURE_LIMIT
    assert [guess(victim.username, "wrong").status_code for _ in range(limit - 1)] == [
        200 if page == "admin" else 400
    ] * (limit - 1)
    signed_in = guess(attacker.username, PASSWORD)
    assert signed_in.status_code == 302 and signed_in.wsgi_request.user == attacker
    client.logout()

    assert guess(victim.username, "wrong-again").status_code == 429
    assert guess(victim.username, PASSWORD).status_code == 429
    # The victim, from their own address, is locked out too: the failures counted for the account.
    assert (
        Client(REMOTE_ADDR="203.0.113.5").post(url, {"username": victim.username, "password": PASSWORD}).status_code
        == 429
    )


@pytest.mark.django_db
def test_own_sign_in_after_own_typos_forgives_only_own_failures():
    """A successful sign-in still forgives the account's own typos (AXES_RESET_ON_SUCCESS): after
    it, the same person has the full AXES_FAILURE_LIMIT of attempts again."""
    user = UserFactory()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        _attempt(user.username, "wrong", "192.0.2.30")
    assert _attempt(user.username, PASSWORD, "192.0.2.30").status_code == 302

    codes = [_attempt(user.username, "wrong", "192.0.2.30").status_code for _ in range(limit - 1)]
    assert codes == [400] * (limit - 1)
    assert _attempt(user.username, PASSWORD, "192.0.2.30").status_code == 302
