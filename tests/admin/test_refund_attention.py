"""Refunds the processor refused or did not answer are the reviewers' to watch: the queue's state
filter "Refunds needing attention" lists their cases, the case page says what the processor said and
when the next attempt is, and a reviewer's "Retry the refund now" sends it again (after commit, under
a key the processor has not refused); nobody else can."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cases import services
from payments.gateways import RefundGateway, RefundResult
from payments.models import Refund
from tests.admin.conftest import staff_outside_reviewers
from tests.factories import case_in_state

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:cases_case_changelist")


class RefusingProcessor(RefundGateway):
    def refund(self, order):
        return RefundResult(succeeded=False, failure_message="The merchant's balance is too low.")


@pytest.fixture
def refused_case(settings):
    """A case the merchant accepted whose refund the processor refused, out of automatic attempts."""
    settings.REFUND_GATEWAY = "tests.admin.test_refund_attention.RefusingProcessor"
    scene = case_in_state("open")
    services.case_accept(case=scene.case, actor=scene.merchant)
    services.refunds_send_due()
    Refund.objects.filter(case=scene.case).update(next_attempt_at=None)
    settings.REFUND_GATEWAY = "payments.gateways.DatabaseRefundGateway"
    return scene.case


def retry_url(case) -> str:
    return reverse("admin:cases_case_refund_retry", args=[case.pk])


def test_the_queue_filter_lists_cases_whose_refund_needs_attention_and_not_the_others(
    client, reviewer_user, refused_case
):
    """Only the case with the refused refund is listed; a case whose refund was sent is not."""
    sent = case_in_state("open")
    services.case_accept(case=sent.case, actor=sent.merchant)
    services.refunds_send_due()
    client.force_login(reviewer_user)

    page = client.get(QUEUE, {"state": "refund_attention"})

    assert page.status_code == 200
    assert "Cases whose refund needs attention" in page.content.decode()
    listed = [case.pk for case in page.context["cl"].result_list]
    assert listed == [refused_case.pk]


def test_the_case_page_shows_the_processors_reason_and_the_retry_button(client, reviewer_user, refused_case):
    client.force_login(reviewer_user)
    html = client.get(reverse("admin:cases_case_change", args=[refused_case.pk])).content.decode()
    assert "The refund is delayed" in html
    assert "The merchant&#x27;s balance is too low." in html
    assert "No automatic attempt left: retry it." in html
    assert 'value="Retry the refund now"' in html


def test_a_reviewers_retry_sends_the_refund_once_under_a_new_key(
    client, reviewer_user, refused_case, django_capture_on_commit_callbacks
):
    """The retry is sent after its commit; the refund succeeds, once, and the case leaves the filter."""
    client.force_login(reviewer_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url(refused_case))

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Case #{refused_case.pk}: the refund is being sent to the payment processor again."
    ]
    refund = Refund.objects.get(case=refused_case)
    assert (refund.status, refund.processor_key) == ("succeeded", f"case-{refused_case.pk}-refund-retry1")
    assert refused_case.events.filter(action="refund_issued").count() == 1
    assert not client.get(QUEUE, {"state": "refund_attention"}).context["cl"].result_list

    again = client.post(retry_url(refused_case))
    assert "nothing to retry" in [str(m) for m in get_messages(again.wsgi_request)][-1]
    assert Refund.objects.get(case=refused_case).attempts == refund.attempts


@pytest.mark.parametrize("who", ["staff outside reviewers", "merchant", "anonymous"])
def test_only_reviewers_can_retry_a_refund(client, refused_case, who):
    """Staff who may look, the case's merchant, or nobody signed in: refused, nothing is sent."""
    if who == "staff outside reviewers":
        client.force_login(staff_outside_reviewers())
    elif who == "merchant":
        client.force_login(refused_case.company.memberships.first().user)
    response = client.post(retry_url(refused_case))
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login/" in response["Location"]
    refund = Refund.objects.get(case=refused_case)
    assert (refund.status, refund.next_attempt_at) == ("failed", None)


def test_retry_by_get_or_for_a_case_without_a_refund_is_refused(client, reviewer_user):
    client.force_login(reviewer_user)
    case = case_in_state("open").case
    assert client.get(retry_url(case)).status_code == 405
    assert client.post(retry_url(case)).status_code == 404
