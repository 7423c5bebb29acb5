"""Two requests with the same Idempotency-Key at the same instant, on PostgreSQL: the action happens
once and both get its answer (the second waits on the first's record, then replays it)."""

import json

import pytest
from django.test import Client

from tests.api.conftest import key_for
from tests.factories import case_in_state
from tests.racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_key_at_once_acts_once():
    scene = case_in_state("open")
    secret = key_for(scene.case.company, scene.merchant)
    url = f"/api/v1/resolution_center_cases/reso_{scene.case.pk}/reply"

    def send():
        response = Client().post(
            url,
            data=json.dumps({"message": "On it."}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY="same-key",
        )
        return response.status_code, response.json()

    results = race(send, send, send)

    assert [r[0] for r in results] == ["ok", "ok", "ok"]
    assert {r[1][0] for r in results} == {200}
    assert len({json.dumps(r[1][1], sort_keys=True) for r in results}) == 1
    assert scene.case.messages.filter(body="On it.").count() == 1
