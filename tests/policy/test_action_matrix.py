"""Issue #10: every action of a case, in every state, for every person, before, at and after the
running deadline.

A cell is (state, clock, role). For each cell:

1. the expectation table below, written from DOMAIN.md and not computed from cases.policy, agrees
   with ``case_actions_for`` on every action: allowed, or refused as the wrong person
   (NotAllowedError, 403) or at the wrong moment (InvalidTransitionError, 409);
2. every service succeeds exactly for the allowed actions and raises, for the refused ones, the
   policy's refusal class with the policy's sentence;
3. every page the person reaches shows exactly the forms of the allowed actions (identified by the
   URL each form posts to) and no other action's form; a stranger reaches none of the pages.

The cases are built once per module (per xdist worker) inside a transaction rolled back at the end;
each test runs in a savepoint of it, and each service call in a savepoint of its own, so a call that
goes through never changes what the next call sees.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case, CaseEvent, CaseStatus
from cases.policy import CaseAction, case_actions_for
from cases.services import Decision
from payments.models import ActorKind, Membership
from resolution_center.exceptions import ApplicationError, InvalidTransitionError, NotAllowedError
from tests.factories import CaseScene, MembershipFactory, case_in_state, merchant_of, reviewer

pytestmark = pytest.mark.django_db

A = CaseAction
S = CaseStatus
CUSTOMER, MERCHANT, REVIEWER = ActorKind.CUSTOMER, ActorKind.MERCHANT, ActorKind.REVIEWER
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
# DOMAIN.md: "request more info (at most 3 times a case)".
MAX_INFO_REQUESTS = 3
# DOMAIN.md: "offer a partial refund (at most 2 offers a case)".
MAX_OFFERS = 2


# --- the cells -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """A case state as the table sees it: what DOMAIN.md's rules read, nothing from the policy."""

    name: str
    status: str
    # The running deadline of the state (DOMAIN.md's states table), or None when no clock runs.
    deadline: str | None = None
    info_requests_used: int = 0
    appealed: bool = False
    via: str = ""
    # Partial refund offers made so far, and whether one waits on the customer.
    offers_made: int = 0
    offer_pending: bool = False


STATES = [
    State("open", S.OPEN, "respond_by"),
    State("open_info_requests_used_up", S.OPEN, "respond_by", info_requests_used=MAX_INFO_REQUESTS),
    State("info_requested", S.INFO_REQUESTED, "reply_by", info_requests_used=1),
    State("offer_pending", S.INFO_REQUESTED, "reply_by", offers_made=1, offer_pending=True),
    State("open_offers_used_up", S.OPEN, "respond_by", offers_made=MAX_OFFERS),
    State("escalated", S.ESCALATED),
    State("accepted", S.ACCEPTED, "appeal_by"),
    State("denied", S.DENIED, "appeal_by"),
    State("appealed_by_customer", S.APPEALED, appealed=True, via="customer"),
    State("appealed_by_merchant", S.APPEALED, appealed=True, via="merchant"),
    State("final_accepted_by_merchant", S.FINAL),
    State("final_after_appeal", S.FINAL, appealed=True),
]

# Where the clock stands: just before, exactly at and just after the running deadline; in a state
# without one, weeks after the last step (past every deadline the case ever had: none may still count).
CLOCKS_AROUND_DEADLINE = {"before": -SECOND, "at": timedelta(0), "after": SECOND}
CLOCKS_WITHOUT_DEADLINE = {"weeks_later": timedelta(days=30)}

ROLES = [
    "customer",
    "owner",
    "admin",
    "support",
    "member_customer",  # a member of the company (support) who opened the case as its customer
    "reviewer",
    "reviewer_member",  # a reviewer who is also a member of the case's company
    "stranger",  # the owner of another company
]


def clocks(state: State) -> dict[str, timedelta]:
    return CLOCKS_AROUND_DEADLINE if state.deadline else CLOCKS_WITHOUT_DEADLINE


CELLS = [(state, clock, role) for state in STATES for clock in clocks(state) for role in ROLES]


def cell_id(value) -> str:
    return value.name if isinstance(value, State) else str(value)


def moment(state: State, clock: str, scene: CaseScene) -> datetime:
    if state.deadline:
        return getattr(scene.case, state.deadline) + CLOCKS_AROUND_DEADLINE[clock]
    return scene.now + CLOCKS_WITHOUT_DEADLINE[clock]


# --- the expectation table, from DOMAIN.md -------------------------------------------------------

WHO = "wrong person"  # NotAllowedError, 403
WHEN = "wrong moment"  # InvalidTransitionError, 409
REFUSAL_KIND = {NotAllowedError: WHO, InvalidTransitionError: WHEN}

# Who each role acts as on the case. A member who is the case's customer acts as the customer, never
# as the merchant; a reviewer who is a member acts as the merchant, never as a judge.
PARTY = {
    "customer": CUSTOMER,
    "member_customer": CUSTOMER,
    "owner": MERCHANT,
    "admin": MERCHANT,
    "support": MERCHANT,
    "reviewer_member": MERCHANT,
    "reviewer": REVIEWER,
    "stranger": None,
}


def rule(*, person_ok: bool, moment_ok: bool) -> str | None:
    """None when allowed; otherwise the first thing wrong: the person, then the moment."""
    if not person_ok:
        return WHO
    if not moment_ok:
        return WHEN
    return None


def expected_answers(state: State, clock: str, role: str) -> dict[CaseAction, str | None]:
    party = PARTY[role]
    status = state.status
    # Past the running deadline: respond_by (open), reply_by (info_requested), appeal_by
    # (accepted, denied). "Passing it" moves the case on, so at the deadline itself it still runs.
    late = clock == "after"
    answerable = status in (S.OPEN, S.INFO_REQUESTED)
    # Who may appeal: the customer a denial, the merchant a reviewer's refund (an accepted case);
    # once per case, so an appealed case (now appealed or final) has no appellant.
    appellant = None if state.appealed else {S.DENIED: CUSTOMER, S.ACCEPTED: MERCHANT}.get(status)
    appeal = rule(
        person_ok=party in (CUSTOMER, MERCHANT) and appellant in (None, party),
        moment_ok=appellant is not None and not late,
    )
    return {
        A.ACCEPT: rule(person_ok=party == MERCHANT, moment_ok=answerable and not late),
        A.DENY: rule(person_ok=party == MERCHANT, moment_ok=answerable and not late),
        # "Refund in full at any stage": until the case is final, whatever the state or the clock.
        A.REFUND_IN_FULL: rule(person_ok=party == MERCHANT, moment_ok=status != S.FINAL),
        A.REQUEST_INFO: rule(
            person_ok=party == MERCHANT,
            moment_ok=status == S.OPEN and not late and state.info_requests_used < MAX_INFO_REQUESTS,
        ),
        # While an offer waits, the customer answers it (Accept, or Decline with a message), not Reply.
        A.REPLY: rule(
            person_ok=party == CUSTOMER,
            moment_ok=status == S.INFO_REQUESTED and not late and not state.offer_pending,
        ),
        A.WITHDRAW: rule(person_ok=party == CUSTOMER, moment_ok=answerable),
        # Any side on a case not yet final, except the customer while a request for information
        # waits on them: their words then go through Reply (README, "Where each kind of rule lives").
        A.MESSAGE: rule(
            person_ok=party is not None,
            moment_ok=status != S.FINAL and not (status == S.INFO_REQUESTED and party == CUSTOMER),
        ),
        A.APPEAL: appeal,
        A.WAIVE_APPEAL: appeal,
        A.DECIDE: rule(person_ok=party == REVIEWER, moment_ok=status == S.ESCALATED),
        A.DECIDE_APPEAL: rule(person_ok=party == REVIEWER, moment_ok=status == S.APPEALED),
        A.ASK_PARTY: rule(person_ok=party == REVIEWER, moment_ok=status in (S.ESCALATED, S.APPEALED)),
        # "offer a partial refund (at most 2 offers a case)": open or info requested, before the
        # running deadline, one at a time; the customer answers it before reply_by.
        A.OFFER: rule(
            person_ok=party == MERCHANT,
            moment_ok=answerable and not late and not state.offer_pending and state.offers_made < MAX_OFFERS,
        ),
        A.ACCEPT_OFFER: rule(person_ok=party == CUSTOMER, moment_ok=state.offer_pending and not late),
        A.DECLINE_OFFER: rule(person_ok=party == CUSTOMER, moment_ok=state.offer_pending and not late),
    }


# --- the cases, built once per module ------------------------------------------------------------


@dataclass
class World:
    scene: CaseScene  # the case every role but member_customer looks at
    insider_scene: CaseScene  # a case in the same state whose customer is a member of its company
    users: dict

    def scene_for(self, role: str) -> CaseScene:
        return self.insider_scene if role == "member_customer" else self.scene


def _scene(state: State, start: datetime) -> CaseScene:
    if state.name == "open_info_requests_used_up":
        scene = case_in_state(S.OPEN, now=start)
        for _ in range(MAX_INFO_REQUESTS):
            scene.now += HOUR
            services.case_request_info(case=scene.case.pk, actor=scene.merchant, message="Which door?", now=scene.now)
            scene.now += HOUR
            services.case_reply(case=scene.case.pk, actor=scene.customer, message="The back door.", now=scene.now)
    elif state.offers_made:
        scene = case_in_state(S.OPEN, now=start)
        for made in range(state.offers_made):
            scene.now += HOUR
            services.case_offer(
                case=scene.case.pk, actor=scene.merchant, amount_cents=2000, message="Would $20 do?", now=scene.now
            )
            if state.offer_pending and made == state.offers_made - 1:
                break
            scene.now += HOUR
            services.case_offer_decline(case=scene.case.pk, actor=scene.customer, message="No.", now=scene.now)
    elif state.name == "final_after_appeal":
        scene = case_in_state(S.APPEALED, now=start)
        scene.now += HOUR
        services.case_decide_appeal(
            case=scene.case.pk, actor=scene.reviewer, decision=Decision.MERCHANT_WINS, note="Delivered.", now=scene.now
        )
    else:
        scene = case_in_state(state.status, via=state.via, now=start)
    case = scene.refresh()
    # The table reads the state's facts from State: the case must be exactly that.
    assert case.status == state.status
    assert case.info_requests_count == state.info_requests_used
    assert case.appealed == state.appealed
    assert (case.offers_count, case.offer_pending) == (state.offers_made, state.offer_pending)
    running = getattr(case, state.deadline) if state.deadline else None
    assert case.next_deadline_at == running
    if state.deadline:
        assert running > scene.now
    return scene


def _world(state: State, start: datetime) -> World:
    scene = _scene(state, start)
    company = scene.case.company
    reviewer_member = reviewer()
    MembershipFactory(company=company, user=reviewer_member, role=Membership.Role.SUPPORT)
    insider_scene = _scene(state, start)
    MembershipFactory(company=insider_scene.case.company, user=insider_scene.customer, role=Membership.Role.SUPPORT)
    users = {
        "customer": scene.customer,
        "owner": scene.merchant,
        "admin": merchant_of(company, role=Membership.Role.ADMIN),
        "support": merchant_of(company, role=Membership.Role.SUPPORT),
        "member_customer": insider_scene.customer,
        "reviewer": scene.reviewer,
        "reviewer_member": reviewer_member,
        "stranger": scene.other_merchant,
    }
    assert set(users) == set(ROLES)
    return World(scene=scene, insider_scene=insider_scene, users=users)


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker):
    """Every state's cases, built once; rolled back when the module is done."""
    with django_db_blocker.unblock(), transaction.atomic():
        start = timezone.now()
        yield {state.name: _world(state, start) for state in STATES}
        transaction.set_rollback(True)


# --- 1. the table agrees with the policy ---------------------------------------------------------


@pytest.mark.parametrize(("state", "clock", "role"), CELLS, ids=cell_id)
def test_policy_agrees_with_the_domain_table(worlds, state, clock, role):
    """Every action's answer (allowed, or refused as the wrong person or at the wrong moment) is the one
    DOMAIN.md gives, and every refusal says why."""
    world = worlds[state.name]
    scene = world.scene_for(role)
    answers = case_actions_for(case=scene.case, user=world.users[role], now=moment(state, clock, scene))

    got = {answer.action: None if answer.allowed else REFUSAL_KIND[answer.refusal] for answer in answers}

    assert got == expected_answers(state, clock, role)
    assert all(answer.reason for answer in answers if not answer.allowed)
    assert answers.party == PARTY[role]


def test_table_covers_every_action_allowed_and_refused_both_ways():
    """The table is not trivially permissive or strict: each action is allowed in some cell and refused
    both as the wrong person and at the wrong moment in others."""
    seen = {action: set() for action in CaseAction}
    for state, clock, role in CELLS:
        for action, answer in expected_answers(state, clock, role).items():
            seen[action].add(answer)
    assert seen == {action: {None, WHO, WHEN} for action in CaseAction}


# --- 2. the services do exactly what the policy allows -------------------------------------------

SERVICE_CALLS = {
    A.ACCEPT: lambda **kw: services.case_accept(note="Sorry about that.", **kw),
    A.DENY: lambda **kw: services.case_deny(reason="delivered_as_described", message="It was delivered.", **kw),
    A.REFUND_IN_FULL: lambda **kw: services.case_refund_in_full(note="We give up.", **kw),
    A.REQUEST_INFO: lambda **kw: services.case_request_info(message="A photo, please.", **kw),
    A.REPLY: lambda **kw: services.case_reply(message="Here it is.", **kw),
    A.MESSAGE: lambda **kw: services.case_message_post(body="Any news?", **kw),
    A.WITHDRAW: lambda **kw: services.case_withdraw(**kw),
    A.APPEAL: lambda **kw: services.case_appeal(statement="Please look again.", **kw),
    A.WAIVE_APPEAL: lambda **kw: services.case_appeal_waive(**kw),
    A.DECIDE: lambda **kw: services.case_decide(decision=Decision.REFUND, note="Refund it.", **kw),
    A.DECIDE_APPEAL: lambda **kw: services.case_decide_appeal(decision=Decision.CREDIT, note="Goodwill.", **kw),
    A.ASK_PARTY: lambda **kw: services.case_reviewer_info_request(party=CUSTOMER, message="Which door?", **kw),
    A.OFFER: lambda **kw: services.case_offer(amount_cents=1000, message="Would $10 do?", **kw),
    A.ACCEPT_OFFER: lambda **kw: services.case_offer_accept(**kw),
    A.DECLINE_OFFER: lambda **kw: services.case_offer_decline(message="I want it all.", **kw),
}


def _attempt(action: CaseAction, *, case: Case, user, now: datetime) -> ApplicationError | None:
    """Run one service in a savepoint that is always rolled back; None when it went through (and wrote
    its timeline row), else the refusal it raised."""
    events_before = CaseEvent.objects.filter(case_id=case.pk).count()
    try:
        with transaction.atomic():
            SERVICE_CALLS[action](case=case.pk, actor=user, now=now)
            assert CaseEvent.objects.filter(case_id=case.pk).count() > events_before, f"{action} wrote no event"
            transaction.set_rollback(True)
    except ApplicationError as error:
        return error
    return None


@pytest.mark.parametrize(("state", "clock", "role"), CELLS, ids=cell_id)
def test_services_do_exactly_what_the_policy_allows(worlds, state, clock, role):
    """Each service goes through for an allowed action and, for a refused one, raises the policy's
    refusal class with the policy's sentence."""
    assert set(SERVICE_CALLS) == set(CaseAction)
    world = worlds[state.name]
    scene = world.scene_for(role)
    user, now = world.users[role], moment(state, clock, scene)
    answers = case_actions_for(case=scene.case, user=user, now=now)

    wrong = []
    for action in CaseAction:
        answer = answers.answer(action)
        error = _attempt(action, case=scene.case, user=user, now=now)
        if answer.allowed and error is not None:
            wrong.append(f"{action}: allowed but raised {type(error).__name__}: {error.message}")
        elif not answer.allowed and error is None:
            wrong.append(f"{action}: refused ({answer.reason}) but went through")
        elif not answer.allowed and (type(error), error.message) != (answer.refusal, answer.reason):
            wrong.append(
                f"{action}: expected {answer.refusal.__name__}: {answer.reason}; "
                f"got {type(error).__name__}: {error.message}"
            )
    assert not wrong, "\n".join(wrong)
    # Every call was rolled back: the case is as built.
    assert Case.objects.get(pk=scene.case.pk).status == state.status


# --- 3. the pages show exactly the allowed actions -----------------------------------------------

# Each page, the side it speaks for, and the URL of the form of each action it can offer.
PAGE_PARTY = {"customer": CUSTOMER, "merchant": MERCHANT, "admin": REVIEWER}


def _form_urls(case: Case) -> dict[str, tuple[str, CaseAction]]:
    ids = [case.pk]
    merchant_ids = [case.company_id, case.pk]
    urls = {
        ("customer", A.REPLY): reverse("cases:case-reply", args=ids),
        ("customer", A.MESSAGE): reverse("cases:case-message", args=ids),
        ("customer", A.WITHDRAW): reverse("cases:case-withdraw", args=ids),
        ("customer", A.APPEAL): reverse("cases:case-appeal", args=ids),
        ("customer", A.WAIVE_APPEAL): reverse("cases:case-appeal-waive", args=ids),
        ("customer", A.ACCEPT_OFFER): reverse("cases:case-offer-accept", args=ids),
        ("customer", A.DECLINE_OFFER): reverse("cases:case-offer-decline", args=ids),
        ("merchant", A.ACCEPT): reverse("merchant:case-accept", args=merchant_ids),
        ("merchant", A.DENY): reverse("merchant:case-deny", args=merchant_ids),
        ("merchant", A.REFUND_IN_FULL): reverse("merchant:case-refund-in-full", args=merchant_ids),
        ("merchant", A.REQUEST_INFO): reverse("merchant:case-request-info", args=merchant_ids),
        ("merchant", A.OFFER): reverse("merchant:case-offer", args=merchant_ids),
        ("merchant", A.MESSAGE): reverse("merchant:case-message", args=merchant_ids),
        ("merchant", A.APPEAL): reverse("merchant:case-appeal", args=merchant_ids),
        ("merchant", A.WAIVE_APPEAL): reverse("merchant:case-appeal-waive", args=merchant_ids),
        ("admin", A.DECIDE): reverse("admin:cases_case_decide", args=ids),
        ("admin", A.DECIDE_APPEAL): reverse("admin:cases_case_decide_appeal", args=ids),
        ("admin", A.ASK_PARTY): reverse("admin:cases_case_request_info", args=ids),
        ("admin", A.MESSAGE): reverse("admin:cases_case_message", args=ids),
    }
    return {url: form for form, url in urls.items()}


PAGE_ACTIONS = {
    page: {action for _, (form_page, action) in _form_urls(Case(pk=1, company_id=1)).items() if form_page == page}
    for page in PAGE_PARTY
}
FORM_ACTION = re.compile(r"<form\b[^>]*\baction=\"([^\"]*)\"")


def _page_url(page: str, case: Case, company_id: int | None = None) -> str:
    if page == "customer":
        return reverse("cases:case-detail", args=[case.pk])
    if page == "merchant":
        return reverse("merchant:case", args=[company_id or case.company_id, case.pk])
    return reverse("admin:cases_case_change", args=[case.pk])


def _get(client, user, url: str, now: datetime):
    # Signed in at the page's moment: the session's idle and absolute timeouts run on the same clock.
    with time_machine.travel(now, tick=False):
        client.force_login(user)
        return client.get(url)


def _forms_on(html: str, case: Case) -> set[tuple[str, CaseAction]]:
    known = _form_urls(case)
    return {known[url] for url in FORM_ACTION.findall(html) if url in known}


# The pages each role reaches: the customer's for the case's customer, the merchant's for members,
# the admin case page for reviewers (a reviewer who is a member reaches both).
PAGES_OF = {
    "customer": ["customer"],
    "owner": ["merchant"],
    "admin": ["merchant"],
    "support": ["merchant"],
    "member_customer": ["customer", "merchant"],
    "reviewer": ["admin"],
    "reviewer_member": ["admin", "merchant"],
}
PAGE_CELLS = [(state, clock, role, page) for state, clock, role in CELLS for page in PAGES_OF.get(role, [])]


@pytest.mark.parametrize(("state", "clock", "role", "screen"), PAGE_CELLS, ids=cell_id)
def test_page_shows_exactly_the_allowed_actions(client, worlds, state, clock, role, screen):
    """The page offers the form of every action the policy allows the person as the side the page
    speaks for, and no other action's form (a member who is the customer acts on the customer page;
    a reviewer who is a member acts on the merchant page)."""
    world = worlds[state.name]
    scene = world.scene_for(role)
    user, now = world.users[role], moment(state, clock, scene)
    answers = case_actions_for(case=scene.case, user=user, now=now)
    expected = set()
    if answers.party == PAGE_PARTY[screen]:
        expected = {(screen, action) for action in PAGE_ACTIONS[screen] if answers.answer(action).allowed}

    response = _get(client, user, _page_url(screen, scene.case), now)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Case #{scene.case.pk}" in html
    assert _forms_on(html, scene.case) == expected


def test_pages_offer_every_form_somewhere():
    """Guard: over all cells the table expects each page to offer each of its forms at least once, so the
    page test cannot pass by finding no forms at all."""
    offered = set()
    for state, clock, role, page in PAGE_CELLS:
        if PARTY[role] == PAGE_PARTY[page]:
            answers = expected_answers(state, clock, role)
            offered |= {(page, action) for action in PAGE_ACTIONS[page] if answers[action] is None}
    assert offered == {(page, action) for page, actions in PAGE_ACTIONS.items() for action in actions}


@pytest.mark.parametrize(("state", "clock"), [(s, c) for s in STATES for c in clocks(s)], ids=cell_id)
def test_stranger_reaches_no_page_of_the_case(client, worlds, state, clock):
    """The owner of another company gets 404 on the customer's and the merchant's case page (through the
    case's company and through their own) and is sent to sign in to the admin."""
    world = worlds[state.name]
    scene, stranger = world.scene, world.users["stranger"]
    now = moment(state, clock, scene)
    own_company = Membership.objects.get(user=stranger).company_id

    for url in (
        _page_url("customer", scene.case),
        _page_url("merchant", scene.case),
        _page_url("merchant", scene.case, company_id=own_company),
    ):
        assert _get(client, stranger, url, now).status_code == 404, url
    admin = _get(client, stranger, _page_url("admin", scene.case), now)
    assert admin.status_code == 302
    assert admin["Location"].startswith(reverse("admin:login"))


# --- 4. the API offers what the pages offer ----------------------------------------------------------

# The roles a credential can act as, and the page whose buttons the API's available_actions must equal:
# a customer's personal token acts on the customer's side, an owner's or admin's key on the merchant's.
API_PAGE = {"customer": "customer", "member_customer": "customer", "owner": "merchant", "admin": "merchant"}
API_CELLS = [(state, clock, role) for state, clock, role in CELLS if role in API_PAGE]


@pytest.mark.parametrize(("state", "clock", "role"), API_CELLS, ids=cell_id)
def test_api_available_actions_are_the_pages_buttons(client, worlds, state, clock, role):
    """A case read through the API lists, in the API's verbs, exactly the buttons the person's page shows
    at the same moment (one action policy behind both)."""
    from api.credentials import api_key_create, customer_token_create
    from api.representation import api_actions

    world = worlds[state.name]
    scene = world.scene_for(role)
    user, now, page = world.users[role], moment(state, clock, scene), API_PAGE[role]
    html = _get(client, user, _page_url(page, scene.case), now).content.decode()
    buttons = {action for _, action in _forms_on(html, scene.case)}
    with time_machine.travel(now, tick=False):
        if page == "customer":
            _, secret = customer_token_create(user=user, name="matrix")
        else:
            _, secret = api_key_create(company=scene.case.company, actor=user, name="matrix", scope="write")
        response = client.get(
            f"/api/v1/resolution_center_cases/reso_{scene.case.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )

    assert response.status_code == 200
    assert sorted(response.json()["available_actions"]) == sorted(api_actions(buttons))
