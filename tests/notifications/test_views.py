"""The in-app list with its unread count in the header, and the notification settings page."""

from datetime import timedelta

import pytest
from django.urls import reverse

from cases import services
from notifications.models import Notification, UserPreferences
from tests.factories import UserFactory, case_in_state

from .conftest import START

pytestmark = pytest.mark.django_db
LIST = "/notifications/"
SETTINGS = "/notifications/settings/"


@pytest.fixture
def denied(clock):
    """A denied case: the customer has one unread notification (the denial), the merchant one (the opening)."""
    scene = case_in_state("open", now=START)
    services.case_deny(
        case=scene.case,
        actor=scene.merchant,
        reason="delivered_as_described",
        message="Delivered.",
        now=START + timedelta(hours=1),
    )
    Notification.objects.filter(recipient=scene.customer, kind="opened").update(read_at=START)
    return scene


def header_count(response) -> str | None:
    html = response.content.decode()
    marker = 'data-unread-count="'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_header_shows_the_unread_count_linking_to_the_list(client, denied):
    """Every page's header shows how many notifications are unread, linking to the list."""
    client.force_login(denied.customer)

    response = client.get(reverse("cases:case-list"))

    assert response.status_code == 200
    assert header_count(response) == "1"
    assert 'href="/notifications/"' in response.content.decode()


def test_list_shows_own_notifications_with_what_happened_next_step_and_deadline(client, denied):
    """The list shows the recipient's notifications with the deadline in their own time zone."""
    UserPreferences.objects.update_or_create(user=denied.customer, defaults={"time_zone": "Asia/Tokyo"})
    client.force_login(denied.customer)

    html = client.get(LIST).content.decode()

    assert "your refund request was denied" in html
    assert "appeal once to the platform" in html
    assert "Deadline:</span> <time" in html
    assert "9 March 2026, 19:00 JST" in html
    # The confirmation's deadline (the merchant's) no longer runs: it is shown as history.
    assert "The deadline then was" in html
    assert "a customer opened a case" not in html  # the merchant's notice is not the customer's


def test_list_never_shows_someone_elses_notifications(client, denied):
    """A stranger sees an empty list, and cannot open or mark another person's notification."""
    stranger = UserFactory()
    notification = Notification.objects.filter(recipient=denied.customer).first()
    client.force_login(stranger)

    assert "your refund request was denied" not in client.get(LIST).content.decode()
    assert client.get(f"/notifications/{notification.pk}/open/").status_code == 404
    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_the_recipients_case_page(client, denied):
    """Following a notification lands on the customer's page of the case, marks it read at the
    moment it was opened and clears it from the count."""
    notification = Notification.objects.get(recipient=denied.customer, kind="denied")
    client.force_login(denied.customer)

    response = client.get(f"/notifications/{notification.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == f"/cases/{denied.case.pk}/"
    notification.refresh_from_db()
    assert notification.read_at == START  # the clock stands still at START
    assert header_count(client.get(LIST)) is None


def test_merchant_notification_opens_the_merchants_case_page(client, denied):
    """A merchant's notification leads to the case under their company."""
    notification = Notification.objects.get(recipient=denied.merchant, kind="opened")
    client.force_login(denied.merchant)

    response = client.get(f"/notifications/{notification.pk}/open/")

    assert response["Location"] == f"/merchant/{denied.case.company_id}/cases/{denied.case.pk}/"


def test_mark_read_and_mark_all_read_clear_the_unread_count(client, denied):
    """ "Mark as read" clears one; "Mark all as read" clears the rest."""
    services.case_appeal(
        case=denied.case, actor=denied.customer, statement="It did not arrive.", now=START + timedelta(hours=2)
    )
    merchant_unread = Notification.objects.filter(recipient=denied.merchant, read_at__isnull=True)
    client.force_login(denied.merchant)
    assert header_count(client.get(LIST)) == str(merchant_unread.count())
    first = merchant_unread.first()

    assert client.post(f"/notifications/{first.pk}/read/").status_code == 302
    assert header_count(client.get(LIST)) == str(merchant_unread.count())
    response = client.post("/notifications/read-all/", follow=True)

    assert "Marked 1 notification as read." in response.content.decode()
    assert header_count(response) is None
    assert not Notification.objects.filter(recipient=denied.merchant, read_at__isnull=True).exists()


def test_mark_read_by_get_is_refused(client, denied):
    """Marking read changes data, so it needs a POST (with its CSRF token)."""
    notification = Notification.objects.get(recipient=denied.customer, kind="denied")
    client.force_login(denied.customer)

    assert client.get(f"/notifications/{notification.pk}/read/").status_code == 405


def test_settings_page_turns_emails_off_and_sets_the_time_zone(client):
    """The "Resolution Center emails" toggle and the time zone are saved for the user."""
    user = UserFactory()
    client.force_login(user)

    page = client.get(SETTINGS)
    response = client.post(SETTINGS, {"time_zone": "Europe/Berlin"}, follow=True)

    assert "Resolution Center emails" in page.content.decode()
    assert "Your notification settings were saved." in response.content.decode()
    preferences = UserPreferences.objects.get(user=user)
    assert (preferences.resolution_center_emails, preferences.time_zone) == (False, "Europe/Berlin")


def test_settings_page_turns_emails_back_on(client):
    user = UserFactory()
    UserPreferences.objects.create(user=user, resolution_center_emails=False)
    client.force_login(user)

    client.post(SETTINGS, {"time_zone": "UTC", "resolution_center_emails": "on"})

    assert UserPreferences.objects.get(user=user).resolution_center_emails is True


def test_settings_page_refuses_an_unknown_time_zone_with_a_message(client):
    """A made-up time zone answers 400 with a clear message and changes nothing."""
    user = UserFactory()
    client.force_login(user)

    response = client.post(SETTINGS, {"time_zone": "Mars/Olympus_Mons", "resolution_center_emails": "on"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not UserPreferences.objects.filter(user=user).exists()


@pytest.mark.parametrize("path", [LIST, SETTINGS])
def test_pages_ask_an_anonymous_visitor_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
