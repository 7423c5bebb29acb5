"""Edge input that once reached code that raised: each answers with a 4xx page that says what was
wrong, never a 5xx. (The property test in test_hostile_input.py looks for the next ones.)"""

import base64
import json

import pytest
from axes.models import AccessLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.reviewers import reviewers_group_ensure
from cases.selectors import CASE_SORT, InvalidCursor, cursor_decode, cursor_encode
from resolution_center.formatting import parse_row_id
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HUGE = "9" * 25  # past 64 bits


@pytest.fixture
def merchant_client(merchant):
    client = Client(raise_request_exception=False)
    client.force_login(merchant)
    return client


@pytest.fixture
def reviewer_client(reviewer_user):
    client = Client(raise_request_exception=False)
    client.force_login(reviewer_user)
    return client


def _unsigned(payload) -> str:
    """A cursor in the old, unsigned shape: base64 of JSON anyone can write."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("text", ["²", "١٢", "٣", "𝟙", "0x1", "-1", "", HUGE, str(2**63)])
def test_parse_row_id_non_ascii_or_beyond_bigint_is_none(text):
    """Only ASCII digits up to a bigint are a row id; unicode digits and huge numbers are not."""
    assert parse_row_id(text) is None


def test_parse_row_id_plain_digits_is_the_number():
    """Plain ASCII digits ("42") up to the largest bigint are ids."""
    assert parse_row_id("42") == 42
    assert parse_row_id(str(2**63 - 1)) == 2**63 - 1


@pytest.mark.parametrize("q", ["²", "#²", "١٢", "#" + HUGE, HUGE])
def test_merchant_payment_search_unicode_digits_or_huge_number_answers_200(merchant_client, company, q):
    """A payment search of unicode digits or a number past 64 bits finds nothing instead of raising."""
    response = merchant_client.get(reverse("merchant:payments", kwargs={"company_id": company.pk}), {"q": q})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["admin:cases_case_changelist", "admin:payments_refund_changelist"])
@pytest.mark.parametrize("q", ["²", "#²", HUGE])
def test_admin_id_search_unicode_digits_or_huge_number_is_not_a_server_error(reviewer_client, path, q):
    """The reviewers' id search treats "²" as text and a number past 64 bits as no row."""
    response = reviewer_client.get(reverse(path), {"q": q})
    assert response.status_code < 500


@pytest.mark.parametrize("value", ["²", "١٢", HUGE])
def test_admin_company_filter_unicode_digits_or_huge_number_is_not_a_server_error(reviewer_client, value):
    """The queue's company filter refuses what is not a company id (admin shows its "?e=1" page)."""
    response = reviewer_client.get(reverse("admin:cases_case_changelist"), {"company": value})
    assert response.status_code < 500


@pytest.mark.parametrize(
    "token",
    [
        _unsigned(["next", [1, "2026-01-01T00:00:00+00:00"]]),  # the types of the two keys swapped
        _unsigned(["next", [None, 2**70]]),  # an id past 64 bits
        _unsigned(["next", [None, 3]]),  # well-formed, but not signed by us
    ],
)
def test_case_list_edited_cursor_answers_400_with_first_page(merchant_client, company, token):
    """A cursor this code did not sign gives 400 and says so, with the first page."""
    response = merchant_client.get(reverse("merchant:cases", kwargs={"company_id": company.pk}), {"cursor": token})
    assert response.status_code == 400
    assert "That page link is not valid any more" in response.content.decode()


def test_cursor_signed_then_edited_is_refused():
    """Changing one character of a signed cursor breaks its signature."""
    token = cursor_encode(direction="next", values=[None, 5])
    assert cursor_decode(token, CASE_SORT) == ("next", [None, 5])
    edited = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(InvalidCursor):
        cursor_decode(edited, CASE_SORT)


@pytest.mark.parametrize(
    "values", [[1, 2], ["2026-01-01T00:00:00+00:00", "3"], [None, 2**64], [None, True], [None, 1.5]]
)
def test_cursor_signed_with_wrong_types_is_refused(values):
    """Even a signed cursor whose values are not the keys' types (another list's cursor) is refused."""
    with pytest.raises(InvalidCursor):
        cursor_decode(cursor_encode(direction="next", values=values), CASE_SORT)


@pytest.mark.parametrize(
    "params", [{"opened_to": "9999-12-31"}, {"opened_from": "0001-01-01"}, {"opened_from": "9999-12-31"}]
)
@pytest.mark.parametrize("name", ["merchant:cases", "merchant:cases-export"])
def test_case_filter_date_at_calendar_edge_answers_400_with_message(merchant_client, company, name, params):
    """A filter date at the calendar's edge is refused with a message, for the list and for the CSV
    export (which once started a 200 download and broke off)."""
    response = merchant_client.get(reverse(name, kwargs={"company_id": company.pk}), params)
    assert response.status_code == 400
    assert "Please enter a date between 1900-01-01 and 9998-12-31." in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        f"/merchant/{2**63}/settings/auto-respond/",
        f"/merchant/{2**63}/cases/",
        f"/cases/{HUGE}/",
        f"/notifications/{HUGE}/open/",
        f"/files/{2**64}/",
    ],
)
def test_row_id_in_path_beyond_bigint_answers_404(merchant_client, path):
    """An id past 64 bits in a URL matches no page (404) instead of overflowing SQLite's integer."""
    assert merchant_client.get(path).status_code == 404


@pytest.mark.parametrize("page", ["change", "delete"])
def test_admin_page_with_empty_to_field_answers_400_not_500(page):
    """An empty ``_to_field`` on an admin change or delete page (Django admin passes it on to
    get_field("")) is refused with 400 for a reviewer, never a server error."""
    reviewer = UserFactory(is_staff=True, is_superuser=True)
    reviewer.groups.add(reviewers_group_ensure())
    log = AccessLog.objects.create(user_agent="x", ip_address="127.0.0.1", username="a", attempt_time=timezone.now())
    client = Client(raise_request_exception=False)
    client.force_login(reviewer)

    response = client.get(f"/admin/axes/accesslog/{log.pk}/{page}/?_to_field=")

    assert response.status_code == 400
    assert AccessLog.objects.filter(pk=log.pk).exists()
