"""Every endpoint × role × scope: a read key writing gets 403, another company's case 404, a revoked
or unknown credential 401; the answers are {"error": {"code", "message"}} in plain words."""

import json

import pytest
from django.test import override_settings

from api.credentials import api_key_revoke
from api.models import ApiKey
from tests.api.conftest import key_for, token_for
from tests.factories import case_in_state

pytestmark = pytest.mark.django_db

READS = [("get", ""), ("get", "/events")]
WRITES = [
    ("post", "/accept", {}),
    ("post", "/deny", {"message": "Delivered."}),
    ("post", "/request_info", {"message": "Tracking?"}),
    ("post", "/reply", {"message": "Hello"}),
    ("post", "/appeal", {"message": "No."}),
    ("post", "/withdraw", {}),
    ("post", "/refund", {}),
    ("post", "/waive_appeal", {}),
]


def call(client, method, path, secret=None, body=None, **headers):
    if secret:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    if method == "get":
        return client.get(path, **headers)
    return client.post(path, data=json.dumps(body or {}), content_type="application/json", **headers)


@pytest.fixture
def scene():
    return case_in_state("open")


def case_path(scene, suffix=""):
    return f"/api/v1/resolution_center_cases/reso_{scene.case.pk}{suffix}"


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_read_only_key_cannot_write(client, scene, method, suffix, body):
    secret = key_for(scene.case.company, scene.merchant, scope="read")

    response = call(client, method, case_path(scene, suffix), secret, body)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "read-only" in response.json()["error"]["message"]
    scene.refresh()
    assert scene.case.status == "open"


@pytest.mark.parametrize(("method", "suffix"), READS + [(m, s) for m, s, _ in WRITES])
def test_another_companys_case_is_not_found(client, scene, method, suffix):
    other = case_in_state("open")
    secret = key_for(other.case.company, other.merchant, scope="write")

    response = call(client, method, case_path(scene, suffix), secret, {"message": "x"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "suffix"), READS + [(m, s) for m, s, _ in WRITES])
def test_another_customers_case_is_not_found(client, scene, method, suffix):
    stranger = case_in_state("open").customer

    response = call(client, method, case_path(scene, suffix), token_for(stranger), {"message": "x"})

    assert response.status_code == 404


@pytest.mark.parametrize(("method", "suffix"), READS + [(m, s) for m, s, _ in WRITES])
def test_revoked_and_missing_credentials_are_refused(client, scene, method, suffix):
    secret = key_for(scene.case.company, scene.merchant, name="Gone")
    api_key_revoke(key=ApiKey.objects.get(name="Gone"), actor=scene.merchant)

    revoked = call(client, method, case_path(scene, suffix), secret, {"message": "x"})
    missing = call(client, method, case_path(scene, suffix), None, {"message": "x"})

    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]["message"]
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("suffix", ["/accept", "/deny", "/request_info", "/refund"])
def test_a_customer_token_cannot_answer_as_the_merchant(client, scene, suffix):
    response = call(client, "post", case_path(scene, suffix), token_for(scene.customer), {"message": "x"})

    assert response.status_code == 403
    scene.refresh()
    assert scene.case.status == "open"


def test_a_company_key_cannot_withdraw_for_the_customer(client, scene):
    secret = key_for(scene.case.company, scene.merchant)

    response = call(client, "post", case_path(scene, "/withdraw"), secret)

    assert response.status_code == 403


def test_a_key_stops_when_its_maker_leaves_the_company(client, scene):
    secret = key_for(scene.case.company, scene.merchant)
    scene.merchant.memberships.all().delete()

    response = call(client, "get", case_path(scene), secret)

    assert response.status_code == 401
    assert "no longer a member" in response.json()["error"]["message"]


def test_bad_input_is_422_in_plain_words(client, scene):
    secret = key_for(scene.case.company, scene.merchant)

    too_many = call(client, "get", "/api/v1/resolution_center_cases?first=1000", secret)
    bad_status = call(client, "get", "/api/v1/resolution_center_cases?status=lost", secret)
    bad_cursor = call(client, "get", "/api/v1/resolution_center_cases?after=nonsense", secret)
    bad_date = call(client, "get", "/api/v1/resolution_center_cases?created_after=yesterday", secret)
    no_message = call(client, "post", case_path(scene, "/deny"), secret, {})

    for response in (too_many, bad_status, bad_cursor, bad_date, no_message):
        assert response.status_code == 422, response.content
        assert response.json()["error"]["code"] == "invalid_request"
    assert "first" in too_many.json()["error"]["message"]
    assert "cursor" in bad_cursor.json()["error"]["message"]
    assert "ISO 8601" in bad_date.json()["error"]["message"]


@override_settings(API={"RATE_LIMIT_PER_MINUTE": 3, "IDEMPOTENCY_HOURS": 24})
def test_rate_limit_answers_429_with_retry_after(client, scene):
    secret = key_for(scene.case.company, scene.merchant)
    other = key_for(scene.case.company, scene.merchant, name="Other")

    answers = [call(client, "get", case_path(scene), secret).status_code for _ in range(4)]
    limited = call(client, "get", case_path(scene), secret)

    assert answers == [200, 200, 200, 429]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert call(client, "get", case_path(scene), other).status_code == 200


def test_last_use_is_recorded(client, scene):
    secret = key_for(scene.case.company, scene.merchant, name="Used")
    assert ApiKey.objects.get(name="Used").last_used_at is None

    call(client, "get", case_path(scene), secret)

    assert ApiKey.objects.get(name="Used").last_used_at is not None


def test_only_a_hash_is_stored(scene):
    secret = key_for(scene.case.company, scene.merchant, name="Hashed")
    key = ApiKey.objects.get(name="Hashed")

    assert secret not in (key.secret_hash, key.prefix)
    assert secret.startswith(key.prefix)


def test_openapi_documents_every_call(client):
    response = client.get("/api/v1/openapi.json")

    paths = response.json()["paths"]
    for path in [
        "/api/v1/resolution_center_cases",
        "/api/v1/resolution_center_cases/summary",
        "/api/v1/resolution_center_cases/{id}",
        "/api/v1/resolution_center_cases/{id}/events",
        "/api/v1/resolution_center_cases/{id}/offer",
        "/api/v1/resolution_center_cases/{id}/refund",
        "/api/v1/resolution_center_cases/{id}/waive_appeal",
    ]:
        assert path in paths


def test_docs_page_uses_our_own_static_files(client):
    response = client.get("/api/v1/docs")

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
