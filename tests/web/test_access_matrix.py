"""Every URL of the product against every role: anonymous, customer A (who owns the case),
customer B, a merchant of company X (the case's company), a merchant of company Y, a reviewer.

Another party's case, payment or file answers 404; signed-out visitors are sent to sign in;
state changes are POST only (GET answers 405). A refused request changes nothing.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import get_resolver, reverse

from cases.models import CaseStatus
from tests.factories import PaymentFactory

from .conftest import row_counts

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "customer_a", "customer_b", "merchant_x", "merchant_y", "reviewer_x"]
SIGNED_IN = ROLES[1:]


@dataclass(frozen=True)
class Endpoint:
    url_name: str
    method: str
    # The URL's arguments, taken from the world fixture: ("case", "company") -> world["case"].pk, ...
    args: tuple = ()
    # Expected status per signed-in role; anonymous always goes to sign in.
    expected: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    # Whether the owning role's request may change the case (the others' never may).
    changes_state_for: tuple = ()

    def id(self) -> str:
        return f"{self.method} {self.url_name}{' (crossed)' if self.args and self.args[0] == 'company_y' else ''}"


def everyone(status: int) -> dict:
    return dict.fromkeys(SIGNED_IN, status)


def only(owners: dict, others: int = 404) -> dict:
    return {role: owners.get(role, others) for role in SIGNED_IN}


CUSTOMER_ENDPOINTS = [
    Endpoint("cases:home", "GET", expected=everyone(302)),
    Endpoint("cases:orders", "GET", expected=everyone(200)),
    Endpoint("cases:case-list", "GET", expected=everyone(200)),
    Endpoint("cases:case-open", "GET", ("payment",), only({"customer_a": 200})),
    Endpoint("cases:case-open", "POST", ("payment",), only({"customer_a": 400})),
    Endpoint("cases:case-detail", "GET", ("case",), only({"customer_a": 200})),
    Endpoint("cases:case-reply", "POST", ("case",), only({"customer_a": 400})),
    Endpoint("cases:case-reply", "GET", ("case",), everyone(405)),
    Endpoint("cases:case-message", "POST", ("case",), only({"customer_a": 400})),
    Endpoint("cases:case-message", "GET", ("case",), everyone(405)),
    Endpoint("cases:case-withdraw", "POST", ("case",), only({"customer_a": 302}), changes_state_for=("customer_a",)),
    Endpoint("cases:case-withdraw", "GET", ("case",), everyone(405)),
    Endpoint("cases:case-appeal", "POST", ("case",), only({"customer_a": 400})),
    Endpoint("cases:case-appeal", "GET", ("case",), everyone(405)),
    # The case is open, so there is no decision to accept: the owner is told so (409).
    Endpoint("cases:case-appeal-waive", "POST", ("case",), only({"customer_a": 409})),
    Endpoint("cases:case-appeal-waive", "GET", ("case",), everyone(405)),
    # No offer waits on the open case: the owner is told so (409); declining without a message is 400.
    Endpoint("cases:case-offer-accept", "POST", ("case",), only({"customer_a": 409})),
    Endpoint("cases:case-offer-accept", "GET", ("case",), everyone(405)),
    Endpoint("cases:case-offer-decline", "POST", ("case",), only({"customer_a": 400})),
    Endpoint("cases:case-offer-decline", "GET", ("case",), everyone(405)),
    Endpoint(
        "cases:attachment-download",
        "GET",
        ("attachment",),
        only({"customer_a": 200, "merchant_x": 200, "reviewer_x": 200}),
    ),
    Endpoint("cases:attachment-download", "POST", ("attachment",), everyone(405)),
]

CASE = ("company", "case")
# Company Y's address with company X's case: a member of Y must not reach X's case through it.
CROSSED = ("company_y", "case")


def merchant_action(url_name: str, owner_status: int = 400) -> list[Endpoint]:
    """A POST-only merchant action: the empty form is refused (400) for company X's merchant;
    a GET answers 405 to them; strangers get 404 either way (membership is checked first)."""
    return [
        Endpoint(url_name, "POST", CASE, only({"merchant_x": owner_status})),
        Endpoint(url_name, "GET", CASE, only({"merchant_x": 405})),
        Endpoint(url_name, "POST", CROSSED, everyone(404)),
    ]


MERCHANT_ENDPOINTS = [
    # "Merchant view": the first company of whoever has one; someone in no company gets 404.
    Endpoint("merchant:home", "GET", expected=only({"merchant_x": 302, "merchant_y": 302})),
    Endpoint("merchant:company", "GET", ("company",), only({"merchant_x": 302})),
    Endpoint("merchant:cases", "GET", ("company",), only({"merchant_x": 200})),
    Endpoint("merchant:cases-export", "GET", ("company",), only({"merchant_x": 200})),
    Endpoint("merchant:payments", "GET", ("company",), only({"merchant_x": 200})),
    Endpoint("merchant:auto-respond", "GET", ("company",), only({"merchant_x": 200})),
    # merchant_x owns company X, so the (valid, empty = "off") settings are saved.
    Endpoint("merchant:auto-respond", "POST", ("company",), only({"merchant_x": 302})),
    Endpoint("merchant:policies", "GET", ("company",), only({"merchant_x": 200})),
    # Likewise the (valid, empty = "none") refund policy and terms are saved.
    Endpoint("merchant:policies", "POST", ("company",), only({"merchant_x": 302})),
    Endpoint("merchant:case", "GET", CASE, only({"merchant_x": 200})),
    Endpoint("merchant:case", "GET", CROSSED, everyone(404)),
    *merchant_action("merchant:case-message"),
    *merchant_action("merchant:case-request-info"),
    *merchant_action("merchant:case-accept"),
    *merchant_action("merchant:case-deny"),
    *merchant_action("merchant:case-offer"),
    *merchant_action("merchant:case-refund-in-full"),
    *merchant_action("merchant:case-appeal"),
    *merchant_action("merchant:case-appeal-waive"),
]

ENDPOINTS = CUSTOMER_ENDPOINTS + MERCHANT_ENDPOINTS


@pytest.fixture
def world(case_a, attachment_a, customer_a, company_x, company_y, customer_b, merchant_x, merchant_y, reviewer_x):
    """Customer A's open case (with a file) at company X, and another eligible payment of A."""
    return {
        "case": case_a,
        "attachment": attachment_a,
        "payment": PaymentFactory(customer=customer_a, company=company_x),
        "company": company_x,
        "company_y": company_y,
        "users": {
            "customer_a": customer_a,
            "customer_b": customer_b,
            "merchant_x": merchant_x,
            "merchant_y": merchant_y,
            "reviewer_x": reviewer_x,
        },
    }


def _request(client, world, endpoint: Endpoint, role: str):
    if role != "anonymous":
        client.force_login(world["users"][role])
    url = reverse(endpoint.url_name, args=[world[name].pk for name in endpoint.args])
    send = client.get if endpoint.method == "GET" else client.post
    return url, send(url, endpoint.data)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=Endpoint.id)
def test_access_matrix(client, world, endpoint, role):
    """Each role gets exactly the expected answer, and a refused request changes nothing."""
    before = row_counts()
    url, response = _request(client, world, endpoint, role)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    else:
        assert response.status_code == endpoint.expected[role], response.content.decode()[:500]
    if role not in endpoint.changes_state_for:
        world["case"].refresh_from_db()
        assert world["case"].status == CaseStatus.OPEN
        assert row_counts() == before


@pytest.mark.parametrize(
    ("role", "lands_on"),
    [
        ("customer_a", "cases:orders"),
        ("customer_b", "cases:orders"),
        ("merchant_x", "merchant:home"),
        ("merchant_y", "merchant:home"),
        ("reviewer_x", "admin:index"),
    ],
)
def test_home_routes_each_role_to_its_side(client, world, role, lands_on):
    """The landing page sends each role to its own side."""
    client.force_login(world["users"][role])
    assert client.get(reverse("cases:home"))["Location"] == reverse(lands_on)


def _url_names(namespace: str) -> set[str]:
    resolver = get_resolver()
    _, sub = resolver.namespace_dict[namespace]
    return {f"{namespace}:{name}" for name in sub.reverse_dict if isinstance(name, str)}


@pytest.mark.parametrize("namespace", ["cases", "merchant"])
def test_access_matrix_covers_every_url(namespace):
    """No page or action escapes the matrix: each named URL of the app is driven above."""
    covered = {endpoint.url_name for endpoint in ENDPOINTS}
    assert _url_names(namespace) <= covered
