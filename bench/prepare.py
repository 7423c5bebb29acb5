"""What the benchmark prepares inside Django before it starts the server: who signs in, which
URLs it drives, the cursor of page 1,000, the claims to file and the cases to reply on, and how
many queries each page runs (one request through Django's test client, counted with
CaptureQueriesContext after a warm-up request)."""

import secrets
from dataclasses import dataclass, field
from importlib import import_module
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.credentials import api_key_create
from cases.models import ACTIVE_STATES, Case, CaseStatus
from payments.models import Company

from .dataset import BUSY_COMPANY_NAME, BUSY_OWNER_EMAIL, ORDERS_CUSTOMER_EMAIL, REVIEWER_EMAIL, claim_pool_create

LIST_DEEP_PAGE = 1000
# The last POSTs of each list are left for the query count, not sent by wrk.
RESERVED_POSTS = 2


@dataclass
class Target:
    """One row of the table: a GET of ``path``, or POSTs cycling through ``posts``."""

    key: str
    label: str
    path: str = ""
    cookie: str = ""
    posts: list[tuple[str, str, str]] = field(default_factory=list)  # (path, cookie, body)
    kind: str = "read"  # "baseline", "read" or "write"
    # A whole request header ("Name: value") sent instead of the session cookie (the API's bearer key).
    header: str = ""
    queries: int | None = None
    note: str = ""


def session_cookie(user) -> str:
    """A signed-in session for ``user``, as login() leaves it (with the session clocks the
    production middleware expects), returned as the cookie's value."""
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    now = int(timezone.now().timestamp())
    try:
        from resolution_center.security import SESSION_LAST_SEEN, SESSION_LOGIN_AT

        session[SESSION_LOGIN_AT] = now
        session[SESSION_LAST_SEEN] = now
    except ImportError:
        pass
    session.save()
    return session.session_key


def _cookie_header(session_key: str, csrf: str = "") -> str:
    parts = [f"{settings.SESSION_COOKIE_NAME}={session_key}"]
    if csrf:
        parts.append(f"{settings.CSRF_COOKIE_NAME}={csrf}")
    return "; ".join(parts)


def deep_page_cursor(*, company_id: int, page: int, page_size: int) -> str | None:
    """The cursor the list hands out for ``page`` (the "next" cursor of the page before it),
    computed from the database instead of walking 999 pages."""
    from cases.selectors import CASE_SORT, CaseFilters, case_list_for_merchant, cursor_encode

    rows = case_list_for_merchant(company_id=company_id, filters=CaseFilters(include_closed=True))
    offset = (page - 1) * page_size - 1
    last_of_previous = rows.values_list(*(key.name for key in CASE_SORT))[offset : offset + 1]
    values = list(last_of_previous)
    if not values:
        return None
    return cursor_encode(direction="next", values=list(values[0]))


def merchant_page_size() -> int:
    from cases.views import merchant

    return merchant.PAGE_SIZE


def build_targets(*, claims: int, replies: int, run_label: str) -> list[Target]:
    User = get_user_model()
    busy = Company.objects.get(name=BUSY_COMPANY_NAME)
    owner = User.objects.get(username=BUSY_OWNER_EMAIL)
    customer = User.objects.get(username=ORDERS_CUSTOMER_EMAIL)
    reviewer = User.objects.get(username=REVIEWER_EMAIL)
    owner_session, customer_session, reviewer_session = (session_cookie(u) for u in (owner, customer, reviewer))
    owner_cookie = _cookie_header(owner_session)

    targets = [Target("baseline", "Trivial view (baseline)", reverse("bench-trivial"), owner_cookie, kind="baseline")]

    cases_url = reverse("merchant:cases", kwargs={"company_id": busy.pk})
    targets.append(Target("list_p1", "Resolution Center, page 1 (active cases)", cases_url, owner_cookie))
    targets.append(
        Target("list_all_p1", "Resolution Center, page 1 (closed included)", f"{cases_url}?closed=on", owner_cookie)
    )
    size = merchant_page_size()
    cursor = deep_page_cursor(company_id=busy.pk, page=LIST_DEEP_PAGE, page_size=size)
    if cursor is None:
        total = Case.objects.filter(company=busy).count()
        targets.append(
            Target(
                "list_all_p1000",
                f"Resolution Center, page {LIST_DEEP_PAGE:,} (closed included)",
                note=f"skipped: {total:,} cases make fewer than {LIST_DEEP_PAGE:,} pages of {size}",
            )
        )
    else:
        deep = f"{cases_url}?{urlencode({'closed': 'on', 'cursor': cursor})}"
        targets.append(
            Target(
                "list_all_p1000", f"Resolution Center, page {LIST_DEEP_PAGE:,} (closed included)", deep, owner_cookie
            )
        )

    # The merchant case page: an open case of the busy company with one of the longest timelines
    # (any of its cases once a sweep has moved them all).
    candidates = list(Case.objects.filter(company=busy, status=CaseStatus.OPEN).order_by("pk")[:300]) or list(
        Case.objects.filter(company=busy).order_by("pk")[:300]
    )
    event_counts = dict(
        Case.objects.filter(pk__in=[c.pk for c in candidates]).annotate(n=Count("events")).values_list("pk", "n")
    )
    shown = max(candidates, key=lambda c: event_counts.get(c.pk, 0))
    case_url = reverse("merchant:case", kwargs={"company_id": busy.pk, "case_id": shown.pk})
    targets.append(
        Target(
            "case_page",
            f"Merchant case page ({event_counts[shown.pk]} timeline events)",
            case_url,
            owner_cookie,
        )
    )
    targets.append(Target("orders", "Customer's orders", reverse("cases:orders"), _cookie_header(customer_session)))
    targets.append(
        Target(
            "admin_queue",
            "Reviewer queue (admin)",
            reverse("admin:cases_case_changelist"),
            _cookie_header(reviewer_session),
        )
    )

    # The official SDK's list call: page 1 of the busy merchant's cases (the SDK's default page), with
    # a read-only key of the owner's.
    _, api_secret = api_key_create(company=busy, actor=owner, name=f"bench {run_label}", scope="read")
    targets.append(
        Target(
            "api_list",
            "API: the SDK's list call, page 1",
            reverse("api-v1:list_cases"),
            header=f"Authorization: Bearer {api_secret}",
        )
    )

    # Filing a claim: each request on a fresh eligible payment of its own customer (the claim
    # rate limit is per customer), so every POST opens a real case.
    pool = claim_pool_create(size=claims + RESERVED_POSTS, label=run_label)
    claimants = User.objects.in_bulk([customer_id for customer_id, _ in pool])
    claim_posts = []
    for customer_id, payment_id in pool:
        csrf = secrets.token_hex(16)
        body = urlencode(
            {
                "csrfmiddlewaretoken": csrf,
                "reason": "not_received",
                "description": "The parcel never arrived and the tracking has not moved for two weeks.",
            }
        )
        path = reverse("cases:case-open", kwargs={"payment_id": payment_id})
        claim_posts.append((path, _cookie_header(session_cookie(claimants[customer_id]), csrf), body))
    targets.append(Target("claim", "File a claim (POST)", posts=claim_posts, kind="write"))

    # A merchant reply: a message on one of many active cases (each POST locks its case row).
    reply_cases = list(
        Case.objects.filter(company=busy, status__in=ACTIVE_STATES)
        .exclude(pk=shown.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)[: replies + RESERVED_POSTS]
    )
    csrf = secrets.token_hex(16)
    reply_cookie = _cookie_header(owner_session, csrf)
    reply_posts = [
        (
            reverse("merchant:case-message", kwargs={"company_id": busy.pk, "case_id": case_id}),
            reply_cookie,
            urlencode({"csrfmiddlewaretoken": csrf, "body": "Thanks, we are looking into it and will answer today."}),
        )
        for case_id in reply_cases
    ]
    targets.append(Target("reply", "Merchant reply (POST message)", posts=reply_posts, kind="write"))
    return targets


def count_queries(target: Target) -> tuple[int, int]:
    """Queries one request runs, after one warm-up request (caches filled); and the status."""
    client = Client()
    # POSTs: the last ones of the list, which the load run leaves out (see RESERVED_POSTS)
    requests = target.posts[-RESERVED_POSTS:] if target.posts else [(target.path, target.cookie, "")] * 2
    status = 0
    counted = 0
    for path, cookie, body in requests:
        for part in cookie.split("; ") if cookie else ():
            name, _, value = part.partition("=")
            client.cookies[name] = value
        with CaptureQueriesContext(connection) as captured:
            if target.posts:
                response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
            elif target.header:
                name, _, value = target.header.partition(": ")
                response = client.get(path, headers={name: value})
            else:
                response = client.get(path)
        status = response.status_code
        counted = len(captured)
    return counted, status
