"""Who reaches the admin, and what can never be changed there."""

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from cases.models import Attachment, Case, CaseEvent, Message
from cases.reviewers import REVIEWERS_GROUP
from payments.models import BalanceCredit, Payment, Refund
from tests.admin.conftest import PNG, appealed_case, case_url, escalated_case, staff_outside_reviewers
from tests.factories import UserFactory, merchant_of

pytestmark = pytest.mark.django_db

EXPECTED_REVIEWER_PERMISSIONS = {
    ("cases", "view_case"),
    ("cases", "view_caseevent"),
    ("cases", "view_message"),
    ("cases", "view_attachment"),
    ("cases", "decide_case"),
    ("payments", "view_payment"),
    ("payments", "view_refund"),
    ("payments", "view_balancecredit"),
    ("payments", "view_company"),
}


def group_permissions(group) -> set[tuple[str, str]]:
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_reviewers_migration_creates_group_with_exactly_the_reviewer_permissions():
    """The data migration creates "Reviewers" with view rights on cases, timeline, messages, files and
    money rows, plus decide_case: nothing that adds, changes or deletes."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("cases.migrations.0003_reviewers_group")
    Group.objects.filter(name=REVIEWERS_GROUP).delete()

    migration.reviewers_group_create(apps, SimpleNamespace(connection=connection))

    group = Group.objects.get(name=REVIEWERS_GROUP)
    assert group_permissions(group) == EXPECTED_REVIEWER_PERMISSIONS
    assert not any(codename.split("_")[0] in {"add", "change", "delete"} for _, codename in group_permissions(group))


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/cases/case/",
        "/admin/payments/payment/",
        "/admin/payments/refund/",
        "/admin/cases/caseevent/",
    ],
)
@pytest.mark.parametrize("who", ["customer", "merchant"])
def test_non_staff_never_reach_admin(client, url, who):
    """Customers and merchants are sent to the admin login, never shown an admin page."""
    case = escalated_case()
    client.force_login(case.customer if who == "customer" else merchant_of(case.company))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_non_staff_cannot_sign_in_to_admin(client):
    """The admin login refuses a correct password from a non-staff user."""
    user = UserFactory()

    response = client.post("/admin/login/", {"username": user.username, "password": "pw-123456789"})

    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_reviewer_can_sign_in_and_open_the_queue(client, reviewer_user):
    """A reviewer signs in at /admin/login/ and lands on the admin with the cases listed."""
    response = client.post(
        "/admin/login/?next=/admin/", {"username": reviewer_user.username, "password": "pw-123456789"}
    )

    assert response.status_code == 302
    assert client.get("/admin/cases/case/").status_code == 200


def test_staff_outside_reviewers_can_look_but_sees_no_decision_form(client):
    """Staff with view rights reads the queue and the case page but is offered no decision."""
    case = escalated_case()
    client.force_login(staff_outside_reviewers())

    assert client.get(reverse("admin:cases_case_changelist")).status_code == 200
    response = client.get(case_url(case, "change"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "only members of the Reviewers group decide cases" in page
    assert 'id="decision-form"' not in page
    assert case_url(case, "decide") not in page


def test_staff_without_view_permission_sees_no_cases(client):
    """Staff status alone shows no case: the view permission is needed."""
    case = escalated_case()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("admin:cases_case_changelist")).status_code == 403
    assert client.get(case_url(case, "change")).status_code == 403


# --- the case page -------------------------------------------------------------------------------


def test_case_page_shows_payment_parties_and_every_event_with_visibility(client, reviewer_user):
    """The reviewer sees the payment, both parties and the whole timeline, including what one party
    cannot see, each labelled with who may see it."""
    case = escalated_case(amount_cents=8800)
    merchant = merchant_of(case.company)
    from cases import services

    services.case_reviewer_info_request(case=case, actor=reviewer_user, party="merchant", message="Proof of delivery?")
    services.case_message_post(case=case, actor=reviewer_user, body="Looks fishy.", visibility="reviewers")
    client.force_login(reviewer_user)

    response = client.get(case_url(case, "change"))

    page = response.content.decode()
    assert response.status_code == 200
    for text in [
        "$88.00",
        f"Payment pay-{case.payment_id}",
        case.customer.email,
        case.company.name,
        merchant.email,
        "Proof of delivery?",
        "Merchant only",
        "Looks fishy.",
        "Reviewers only",
        "Escalated to the platform",
        "It never arrived.",
    ]:
        assert text in page
    assert page.count('class="timeline-event') == case.events.count()


def test_case_page_links_attachments_to_the_access_checking_download(client, reviewer_user):
    """Evidence files are linked through the download view that checks access, never a storage URL."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = escalated_case(files=[SimpleUploadedFile("receipt.png", PNG, content_type="image/png")])
    attachment = Attachment.objects.get(case=case)
    client.force_login(reviewer_user)

    page = client.get(case_url(case, "change")).content.decode()

    download = reverse("cases:attachment-download", args=[attachment.pk])
    assert f'href="{download}">receipt.png</a>' in page
    assert attachment.file.name not in page
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_case_page_has_no_editable_field_and_no_save(client, reviewer_user):
    """Nothing on the case is an input of admin's own form: no state field, no Save, no Delete."""
    case = escalated_case()
    client.force_login(reviewer_user)

    page = client.get(case_url(case, "change")).content.decode()

    case_form = page[page.index('id="case_form"') : page.index("</form>", page.index('id="case_form"'))]
    assert 'name="status"' not in case_form
    controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", case_form)
    assert [c for c in controls if 'type="hidden"' not in c] == []
    assert 'name="_save"' not in page
    assert "deletelink" not in page


@pytest.mark.parametrize("user_kind", ["superuser", "reviewer"])
def test_case_cannot_be_added_changed_or_deleted_in_admin(client, reviewer_user, user_kind):
    """Even a superuser cannot add a case or post its admin form (state included) or delete it."""
    case = appealed_case()
    user = UserFactory(is_staff=True, is_superuser=True) if user_kind == "superuser" else reviewer_user
    client.force_login(user)

    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    assert client.post(case_url(case, "change"), {"status": "final", "outcome": "refunded"}).status_code == 403
    assert client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "appealed"


def money_and_timeline_rows():
    """One of each row kind the admin must never change: payment, refund, credit, event, message, file."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import services
    from tests.factories import reviewer

    reviewer_user = reviewer()
    escalated = escalated_case(files=[SimpleUploadedFile("a.png", PNG, content_type="image/png")])
    services.case_decide(case=escalated, actor=reviewer_user, decision="credit", note="Credit.")
    appealed = appealed_case()
    services.case_decide_appeal(case=appealed, actor=reviewer_user, decision="refund", note="Refund.")
    from notifications.models import Notification

    return {
        Notification: Notification.objects.filter(case=escalated).first(),
        Payment: Payment.objects.first(),
        Refund: Refund.objects.get(case=appealed),
        BalanceCredit: BalanceCredit.objects.get(case=escalated),
        CaseEvent: CaseEvent.objects.filter(case=escalated).first(),
        Message: Message.objects.filter(case=escalated).first(),
        Attachment: Attachment.objects.get(case=escalated),
    }


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("user_kind", ["superuser", "reviewer"])
def test_money_rows_and_timeline_are_view_only_in_admin(client, reviewer_user, user_kind):
    """Payments, refunds, balance credits, timeline events, messages, files (and, for superusers,
    notifications) can be listed, searched and opened, but GET add, POST change and POST delete
    answer 403, and no row changes."""
    from notifications.models import Notification

    rows = money_and_timeline_rows()
    user = UserFactory(is_staff=True, is_superuser=True) if user_kind == "superuser" else reviewer_user
    client.force_login(user)
    counts = {model: model.objects.count() for model in rows}
    if user_kind == "reviewer":
        # Not among a reviewer's permissions: the case page's timeline already shows each notice.
        assert client.get(admin_url(Notification, "changelist")).status_code == 403
        del rows[Notification]

    for model, row in rows.items():
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
        assert client.get(admin_url(model, "changelist"), {"q": str(row.pk)}).status_code == 200, model
        assert client.get(admin_url(model, "change", row.pk)).status_code == 200, model
        assert client.get(admin_url(model, "add")).status_code == 403, model
        assert client.post(admin_url(model, "add"), {}).status_code == 403, model
        assert client.post(admin_url(model, "change", row.pk), {"amount_cents": 1, "note": "x"}).status_code == 403
        assert client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403, model

    assert {model: model.objects.count() for model in counts} == counts
    refund = rows[Refund]
    refund.refresh_from_db()
    assert refund.amount_cents == 5000


def test_money_changelists_bulk_delete_posted_anyway_deletes_nothing(client):
    """No admin action (bulk delete) is offered on money and timeline rows, and a bulk delete
    posted anyway, even by a superuser, is ignored: the list comes back (200) with no deletion
    confirmed or reported, and every row is still there."""
    money_and_timeline_rows()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    models = (Payment, Refund, BalanceCredit, CaseEvent)
    before = {model: sorted(model.objects.values_list("pk", flat=True)) for model in models}
    assert all(before.values()), before

    statuses = {}
    for model in models:
        page = client.get(admin_url(model, "changelist")).content.decode()
        assert 'name="action"' not in page, model
        response = client.post(
            admin_url(model, "changelist"),
            {"action": "delete_selected", "_selected_action": before[model], "post": "yes"},
        )
        statuses[model] = response.status_code
        text = response.content.decode()
        assert "Are you sure" not in text and "Successfully deleted" not in text, model

    assert statuses == dict.fromkeys(models, 200)
    assert {model: sorted(model.objects.values_list("pk", flat=True)) for model in models} == before


def test_payment_search_by_id_email_and_company(client, reviewer_user):
    """Payments are searchable by id, customer email and company name."""
    case = escalated_case()
    client.force_login(reviewer_user)

    for term in (str(case.payment_id), case.customer.email, case.company.name):
        page = client.get(admin_url(Payment, "changelist"), {"q": term}).content.decode()
        assert f"/admin/payments/payment/{case.payment_id}/change/" in page, term


def test_admin_pages_render_for_a_signed_in_reviewer_with_csrf_enforced(reviewer_user):
    """The case page carries a CSRF token the decision form posts back (real browser flow)."""
    case = escalated_case()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)

    page = client.get(case_url(case, "change"))
    token = page.context["csrf_token"]
    response = client.post(
        case_url(case, "decide"),
        {"csrfmiddlewaretoken": str(token), "decision-decision": "merchant_wins", "decision-note": "Shipped."},
    )

    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == "denied"
