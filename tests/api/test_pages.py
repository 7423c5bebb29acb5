"""The Developers page (company keys) and the customer's personal tokens page: made with a name and a
scope, shown once, listed with their last use, revoked; support members only read the list."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from api.models import ApiKey, CustomerToken
from payments.models import Membership
from tests.factories import CompanyFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db

SECRET = re.compile(r'value="(rc_(?:key|pt)_[A-Za-z0-9_-]+)"')


def test_owner_makes_a_key_sees_it_once_and_revokes_it(client):
    company = CompanyFactory(name="Acme")
    owner = merchant_of(company)
    client.force_login(owner)
    url = reverse("developers:home", args=[company.pk])

    made = client.post(url, {"name": "Helpdesk sync", "scope": "write"}, follow=True)
    html = made.content.decode()
    secret = SECRET.search(html).group(1)
    again = client.get(url).content.decode()

    assert "Copy it now" in html
    assert secret not in again
    assert "Helpdesk sync" in again
    assert "Read and write" in again
    assert "Never" in again
    key = ApiKey.objects.get(name="Helpdesk sync")
    assert client.get("/api/v1/resolution_center_cases", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert "Never" not in client.get(url).content.decode()

    revoked = client.post(reverse("developers:key-revoke", args=[company.pk, key.pk]), follow=True)

    assert "revoked" in revoked.content.decode()
    assert client.get("/api/v1/resolution_center_cases", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_a_key_without_a_name_is_refused_and_the_form_kept(client):
    company = CompanyFactory()
    client.force_login(merchant_of(company))

    response = client.post(reverse("developers:home", args=[company.pk]), {"name": "", "scope": "read"})

    assert response.status_code == 400
    assert "not made" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_support_member_sees_keys_but_cannot_make_or_revoke_them(client):
    company = CompanyFactory()
    owner = merchant_of(company)
    client.force_login(owner)
    client.post(reverse("developers:home", args=[company.pk]), {"name": "Sync", "scope": "read"})
    key = ApiKey.objects.get()
    support = merchant_of(company, role=Membership.Role.SUPPORT)
    client.force_login(support)

    page = client.get(reverse("developers:home", args=[company.pk])).content.decode()
    made = client.post(reverse("developers:home", args=[company.pk]), {"name": "Mine", "scope": "write"})
    revoke = client.post(reverse("developers:key-revoke", args=[company.pk, key.pk]))

    assert "Sync" in page
    assert "Make key" not in page
    assert made.status_code == 403
    assert revoke.status_code == 403
    assert ApiKey.objects.get().revoked_at is None
    assert ApiKey.objects.count() == 1


def test_another_companys_member_cannot_reach_the_page(client):
    company = CompanyFactory()
    client.force_login(merchant_of(CompanyFactory()))

    assert client.get(reverse("developers:home", args=[company.pk])).status_code == 404


def test_developers_tab_in_the_merchant_bar(client):
    company = CompanyFactory()
    client.force_login(merchant_of(company))

    html = client.get(reverse("merchant:policies", args=[company.pk])).content.decode()

    assert reverse("developers:home", args=[company.pk]) in html


def test_customer_makes_and_revokes_a_personal_token(client):
    customer = UserFactory()
    client.force_login(customer)

    made = client.post(reverse("api-tokens"), {"name": "My scripts"}, follow=True)
    secret = SECRET.search(made.content.decode()).group(1)
    token = CustomerToken.objects.get()
    client.post(reverse("api-token-revoke", args=[token.pk]))

    assert secret.startswith("rc_pt_")
    assert client.get("/api/v1/resolution_center_cases", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_nobody_revokes_another_persons_token(client):
    owner = UserFactory()
    client.force_login(owner)
    client.post(reverse("api-tokens"), {"name": "Mine"})
    token = CustomerToken.objects.get()
    client.force_login(UserFactory())

    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    assert CustomerToken.objects.get().revoked_at is None


def test_api_key_create_command_prints_a_working_key(client, capsys):
    company = CompanyFactory()
    merchant_of(company)

    call_command("api_key_create", "--company", str(company.pk), "--scope", "write")
    secret = capsys.readouterr().out.strip()

    assert secret.startswith("rc_key_")
    assert ApiKey.objects.get().scope == "write"
    assert client.get("/api/v1/resolution_center_cases", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
