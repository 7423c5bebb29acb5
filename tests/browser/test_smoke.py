import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_renders_in_chromium(new_page):
    """The server answers a real browser with the product's page."""
    page = new_page()
    response = page.goto("/")
    assert response.status == 200
    assert "Resolution Center" in page.content()
