"""The net for the next 500: every URL pattern of the project (the admin's changelists, change
pages and the reviewers' own admin views included), filled with hostile values in its path, in
each query parameter and form field the project reads, sent as GET and POST by each role. No
answer may be a 5xx, and a POST that was not accepted (no redirect) leaves the cases, messages,
attachments and refunds as they were.

Run on SQLite and on PostgreSQL (``DATABASE_URL``); Hypothesis keeps each run near a minute."""

import importlib
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.filters import SimpleListFilter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from cases import services
from cases.models import Attachment, Case, Message
from cases.selectors import cursor_encode
from notifications.models import Notification
from payments.models import Refund
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64

# --- what the project reads ----------------------------------------------------------------------

FORM_MODULES = (
    "cases.forms.auth",
    "cases.forms.customer",
    "cases.forms.merchant",
    "cases.admin_forms",
    "notifications.forms",
)
# Read by views and by Django admin outside any form: search, ordering, paging, filters' errors,
# the list's position, redirects after sign-in, the admin's kept filters and popups.
FIXED_PARAMETERS = (
    "q",
    "cursor",
    "o",
    "p",
    "e",
    "all",
    "next",
    "page",
    "token",
    "_changelist_filters",
    "_popup",
    "_to_field",
    "_save",
    "_continue",
    "action",
    "select_across",
    "index",
    "_selected_action",
    "post",
    "id",
    "pk",
)
ADMIN_PREFIXES = ("decision", "info", "message")  # cases.admin's form prefixes on the reviewer views


def _form_fields() -> set[str]:
    """Every field name of every form class in the project's form modules."""
    for module in FORM_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    pending = [forms.Form]
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        if form.__module__.startswith(("cases.", "notifications.")):
            names.update(form.base_fields)
            if form.__module__ == "cases.admin_forms":
                names.update(f"{prefix}-{name}" for prefix in ADMIN_PREFIXES for name in form.base_fields)
    return names


def _list_filter_parameters() -> set[str]:
    """The query parameters of every admin changelist's filters (field, date and custom filters)."""
    names: set[str] = set()
    for model_admin in admin.site._registry.values():
        for entry in model_admin.list_filter:
            if isinstance(entry, type) and issubclass(entry, SimpleListFilter):
                names.add(entry.parameter_name)
                continue
            field = entry[0] if isinstance(entry, tuple) else entry
            names.update(
                {f"{field}__exact", f"{field}__isnull", f"{field}__gte", f"{field}__lt", f"{field}__id__exact"}
            )
    return names


PARAMETERS = sorted(set(FIXED_PARAMETERS) | _form_fields() | _list_filter_parameters())


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, for reverse()
    kwargs: tuple[str, ...]


def _routes() -> list[Route]:
    """Every named URL pattern of the project, with the names of its path parameters."""
    found: list[Route] = []

    def walk(patterns, namespace: str, inherited: tuple[str, ...]):
        for entry in patterns:
            groups = tuple(getattr(entry.pattern, "converters", {})) or tuple(entry.pattern.regex.groupindex)
            if isinstance(entry, URLResolver):
                prefix = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix, inherited + groups)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append(Route(f"{namespace}{entry.name}", inherited + groups))

    walk(get_resolver().url_patterns, "", ())
    return sorted(set(found), key=lambda route: route.name)


ROUTES = _routes()

# --- hostile values --------------------------------------------------------------------------------

HUGE = "9" * 30
FIXED_VALUES = [
    "",
    "0",
    "-1",
    "-9223372036854775809",
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    HUGE,
    "1e309",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1.5",
    "²",
    "١٢٣",
    "٣",
    "𝟙𝟚",
    "#²",
    "#" + HUGE,
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2026-02-30",
    "0000-00-00",
    "1970-01-01T00:00:00Z",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: not encodable as UTF-8
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "_",
    "../../etc/passwd",
    "on",
    "true",
    "accept",
    "deny",
    "owner",
    "https://evil.example/",
    "x" * 1_000_000,
]
# Cursors in the old unsigned shape and in the signed shape with values of the wrong types.
CURSORS = [
    "eyJuZXh0IiwgWzEsICIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIl1d",
    "WyJuZXh0IiwgW251bGwsIDExODA1OTE2MjA3MTc0MTEzMDM0MjRdXQ",
    "not-base64-$$$",
]
INVALID_UTF8 = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80abc"]


def _signed_cursors() -> list[str]:
    return [
        cursor_encode(direction="next", values=[1, "2026-01-01T00:00:00+00:00"]),
        cursor_encode(direction="prev", values=[None, 2**70]),
        cursor_encode(direction="sideways", values=[None, 1]),
        cursor_encode(direction="next", values=["9999-12-31T23:59:59+14:00", 1]),
        cursor_encode(direction="next", values=[]),
    ]


SWEEP_VALUES = ("²", HUGE, "9999-12-31", "0001-01-01", CURSORS[0], "\x00", b"\xff", "-1", "NaN", "١٢")

hostile_text = st.one_of(
    st.sampled_from(FIXED_VALUES),
    st.text(st.characters(categories=["Nd", "No", "Lo", "Cc", "Zs"]), max_size=30),
    st.integers().map(str),
    st.integers(min_value=2**63 - 5, max_value=2**200).map(str),
    st.dates().map(str),
    st.floats().map(str),
)
hostile_value = st.one_of(hostile_text, st.sampled_from(INVALID_UTF8))

# --- the world the requests act on -----------------------------------------------------------------


@pytest.fixture
def world():
    """A company with an owner, a customer with a case (a message and a file on it), a reviewer,
    a notification; each role's signed-in user."""
    company = CompanyFactory()
    owner = merchant_of(company)
    customer = UserFactory()
    payment = PaymentFactory(company=company, customer=customer)
    PaymentFactory(company=company, customer=customer)  # one more, eligible for a claim
    case = services.case_open(
        customer=customer,
        payment=payment,
        reason="not_received",
        description="It never came.",
        files=[SimpleUploadedFile("photo.png", PNG, content_type="image/png")],
    )
    services.case_message_post(case=case, actor=owner, body="We are looking.")
    staff = reviewer()
    ids = {
        "company_id": company.pk,
        "case_id": case.pk,
        "payment_id": payment.pk,
        "attachment_id": Attachment.objects.filter(case=case).values_list("pk", flat=True).first() or 1,
        "notification_id": Notification.objects.values_list("pk", flat=True).first() or 1,
        "object_id": case.pk,
        "content_type_id": 1,
    }
    return {"users": {"anonymous": None, "customer": customer, "merchant": owner, "reviewer": staff}, "ids": ids}


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Case, Message, Attachment, Refund)}


def _encode(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return quote(value, safe="")
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


path_choice = st.one_of(
    st.just("real"),
    st.sampled_from([0, 2**63 - 1, 2**63, 2**64, int(HUGE), 10**200]),
    st.sampled_from(["²", "١٢", "abc", "-1", "\x00", "x" * 5000, "%ff", "1.0"]),
)
PLACEHOLDER = 987654321000  # reversed in a path parameter's place, then replaced by the hostile value


def _url(route: Route, ids: dict, choices: list) -> str | None:
    """The route's URL with the real rows' ids, or a hostile value where ``choices`` says so (put in
    after reverse(), since a hostile value does not match the pattern's converter)."""
    kwargs, swaps = {}, {}
    for index, (name, choice) in enumerate(zip(route.kwargs, choices, strict=True)):
        if name == "app_label":
            kwargs[name] = "cases"
        elif choice == "real":
            kwargs[name] = ids.get(name, 1)
        else:
            kwargs[name] = PLACEHOLDER + index
            swaps[str(PLACEHOLDER + index)] = quote(str(choice).encode("utf-8", "surrogatepass"), safe="")
    try:
        url = reverse(route.name, kwargs=kwargs)
    except NoReverseMatch:
        return None
    for placeholder, value in swaps.items():
        url = url.replace(placeholder, value)
    return url


def _send(client: Client, method: str, url: str, pairs: list[tuple[str, str | bytes]]):
    encoded = "&".join(f"{quote(name)}={_encode(value)}" for name, value in pairs)
    if method == "GET":
        return client.get(url, QUERY_STRING=encoded)
    return client.post(url, data=encoded, content_type="application/x-www-form-urlencoded")


def _assert_survives(client: Client, method: str, url: str, pairs) -> None:
    before = _row_counts()
    response = _send(client, method, url, pairs)
    shown = ", ".join(f"{name}={str(value)[:40]!r}" for name, value in pairs)
    assert response.status_code < 500, f"{method} {url[:200]} [{shown}] answered {response.status_code}"
    if method == "POST" and not 300 <= response.status_code < 400:
        assert _row_counts() == before, f"refused {method} {url[:200]} [{shown}] changed rows"


def _client_for(world, role: str) -> Client:
    client = Client(raise_request_exception=False)
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


ROLES = ("anonymous", "customer", "merchant", "reviewer")


# --- the tests -------------------------------------------------------------------------------------


def test_routes_walk_finds_every_part_of_the_project():
    """The walk reaches the customer's, the merchant's, the notifications', the sign-in and the admin's
    pages (changelists, change pages and the reviewers' own views), so a new page is fuzzed too."""
    names = {route.name for route in ROUTES}
    for expected in (
        "cases:case-detail",
        "merchant:cases",
        "merchant:payments",
        "notifications:preferences",
        "login",
        "admin:cases_case_changelist",
        "admin:cases_case_change",
        "admin:cases_case_decide",
        "admin:payments_payment_changelist",
    ):
        assert expected in names
    assert {"q", "cursor", "opened_to", "company", "body", "decision-decision"} <= set(PARAMETERS)


def test_every_route_hostile_query_as_every_role_is_never_a_server_error(world):
    """Each route, as each role, by GET and by POST, with every parameter set at once to an edge
    value (a unicode digit, a number past 64 bits, a date at the calendar's edge, an edited cursor,
    NUL, bytes that are not UTF-8), the values rotated between the two requests."""
    for role in ROLES:
        client = _client_for(world, role)
        for route in ROUTES:
            url = _url(route, world["ids"], ["real"] * len(route.kwargs))
            if url is None:
                continue
            for shift, method in enumerate(("GET", "POST")):
                pairs = [(name, SWEEP_VALUES[(i + shift) % len(SWEEP_VALUES)]) for i, name in enumerate(PARAMETERS)]
                _assert_survives(client, method, url, pairs)


# Derandomized: the same 800 draws on every run, so CI never fails on a draw nobody can reproduce.
# To explore further, run it locally with another seed (--hypothesis-seed=N, without this flag).
@settings(
    max_examples=800,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no "explain": minutes when it fails
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_route_any_hostile_input_is_never_a_server_error_and_saves_nothing_half(world, data):
    """A random route, role and method, with hostile values in its path and in a random handful of
    the parameters the project reads: never a 5xx, and a refused POST writes nothing."""
    route = data.draw(st.sampled_from(ROUTES), label="route")
    role = data.draw(st.sampled_from(ROLES), label="role")
    method = data.draw(st.sampled_from(("GET", "POST")), label="method")
    choices = [data.draw(path_choice, label=f"path {name}") for name in route.kwargs]
    url = _url(route, world["ids"], choices)
    assume(url is not None)
    names = data.draw(st.lists(st.sampled_from(PARAMETERS), min_size=1, max_size=6, unique=True), label="parameters")
    values = st.one_of(hostile_value, st.sampled_from(CURSORS + _signed_cursors()))
    pairs = [(name, data.draw(values, label=name)) for name in names]
    _assert_survives(_client_for(world, role), method, url, pairs)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "path",
    ["/cases/%ff/", "/merchant/%ff%fe/cases/", "/admin/cases/case/%ff%fe/change/", "/files/%00/", "/%c3%28/"],
)
def test_invalid_utf8_in_path_is_never_a_server_error(world, role, path):
    """Bytes that are not UTF-8 in the path are a 4xx for everyone."""
    response = _client_for(world, role).get(path)
    assert response.status_code < 500
