"""Sign-in, sign-out and the landing page that sends each person to their side."""

import pytest
from django.urls import reverse

from tests.factories import PaymentFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db


def test_login_page_asks_for_email_and_password(client):
    """The sign-in page labels the user name field "Email" and has a "Sign in" button."""
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Email' in html
    assert '<label for="id_password">Password' in html
    assert ">Sign in</button>" in html


def test_sign_in_customer_lands_on_their_orders(client, payment_a, customer_a):
    """A customer who signs in sees their orders."""
    response = client.post(reverse("login"), {"username": customer_a.username, "password": "pw-123456789"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cases:orders")
    assert "Your orders" in response.content.decode()
    assert payment_a.product.name in response.content.decode()


def test_sign_in_wrong_password_shows_error_and_keeps_email(client, customer_a):
    """A wrong password answers 400 with Django's message and the email still filled in."""
    response = client.post(reverse("login"), {"username": customer_a.username, "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please enter a correct" in html
    assert f'value="{customer_a.username}"' in html


def test_sign_in_empty_fields_answers_400_with_messages(client):
    """Empty fields are refused with a message on each field."""
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2


def test_home_merchant_only_goes_to_merchant_side(client, merchant_x):
    """A merchant who has bought nothing lands on the merchant's pages."""
    client.force_login(merchant_x)
    response = client.get(reverse("cases:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("merchant:home")


def test_home_customer_goes_to_orders(client, customer_a, payment_a):
    """A customer lands on their orders."""
    client.force_login(customer_a)
    response = client.get(reverse("cases:home"))
    assert response["Location"] == reverse("cases:orders")


def test_home_new_user_without_anything_goes_to_orders(client):
    """Someone with no payments and no company still gets a page: their (empty) orders."""
    client.force_login(UserFactory())
    response = client.get(reverse("cases:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("cases:orders")
    assert "You have no orders yet" in response.content.decode()


def test_home_reviewer_only_goes_to_admin(client, reviewer_x):
    """A platform reviewer with no purchases and no company works in the admin."""
    client.force_login(reviewer_x)
    response = client.get(reverse("cases:home"))
    assert response["Location"] == reverse("admin:index")


def test_header_user_both_customer_and_merchant_sees_side_switch(client, company_x, company_y):
    """A person who bought from one company and works for another can switch sides in the header."""
    person = merchant_of(company_y)
    PaymentFactory(customer=person, company=company_x)
    client.force_login(person)
    html = client.get(reverse("cases:orders")).content.decode()
    assert ">Customer view</a>" in html
    assert ">Merchant view</a>" in html
    assert f'href="{reverse("merchant:home")}"' in html


def test_header_customer_only_has_no_side_switch(client, customer_a, payment_a):
    """A customer who is not a merchant sees no merchant switch."""
    client.force_login(customer_a)
    html = client.get(reverse("cases:orders")).content.decode()
    assert "Merchant view" not in html
    assert "Your cases" in html


def test_home_anonymous_redirects_to_sign_in(client):
    """Signed-out visitors are sent to sign in, coming back where they started."""
    response = client.get(reverse("cases:orders"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('cases:orders')}"


def test_sign_out_by_post_ends_the_session(client, customer_a):
    """Signing out is a POST; afterwards the pages ask to sign in again."""
    client.force_login(customer_a)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("cases:orders")).status_code == 302


def test_sign_out_by_get_is_refused(client, customer_a):
    """A link (GET) cannot sign a person out: 405, and they stay signed in."""
    client.force_login(customer_a)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("cases:orders")).status_code == 200


def test_sign_out_form_carries_csrf_token(customer_a):
    """The header's sign-out form is a POST with a CSRF token (checked with CSRF enforced)."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(customer_a)
    html = strict.get(reverse("cases:orders")).content.decode()
    assert f'action="{reverse("logout")}"' in html
    assert strict.post(reverse("logout")).status_code == 403
    token = strict.cookies["csrftoken"].value
    assert strict.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302


def test_password_change_keeps_user_signed_in(client, customer_a):
    """A signed-in user can change their password and sign in with the new one."""
    client.force_login(customer_a)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-123456789", "new_password1": "a-new-Pass-7788", "new_password2": "a-new-Pass-7788"},
    )
    assert response["Location"] == reverse("password_change_done")
    customer_a.refresh_from_db()
    assert customer_a.check_password("a-new-Pass-7788")
