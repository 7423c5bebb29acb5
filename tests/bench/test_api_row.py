"""`make bench`'s API row: the official SDK's list call on the busy merchant, authenticated by a key
of its own, answers 200 with a page of cases in a fixed number of queries."""

import pytest

from bench.dataset import Scale, generate
from bench.prepare import build_targets, count_queries

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("resolution_center.urls_bench")]


def test_bench_drives_the_sdk_list_call_with_a_key():
    generate(scale=Scale.of(0.0005), seed=11, log=lambda *args: None)

    targets = {target.key: target for target in build_targets(claims=2, replies=2, run_label="t")}
    api_list = targets["api_list"]
    queries, status = count_queries(api_list)

    assert api_list.path == "/api/v1/resolution_center_cases"
    assert api_list.header.startswith("Authorization: Bearer rc_key_")
    assert status == 200
    assert queries <= 10
