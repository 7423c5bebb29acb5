"""The in-app notifications list and the notification settings page. Thin: authorise, form,
service, message, redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from resolution_center.exceptions import ApplicationError

from . import services
from .forms import PreferencesForm
from .links import case_path
from .models import UserPreferences
from .selectors import notification_get_for_user, notification_list_for_user

PER_PAGE = 25


def _frame(request, company_id: int | None, *, section: str, switch_url_name: str) -> dict:
    """On a merchant's side (a company in the URL) the page has the company bar like every merchant
    page; otherwise the plain frame."""
    if company_id is None:
        return {"base_template": "base.html"}
    from cases.views.merchant import merchant_bar_context

    return {
        "base_template": "cases/merchant/base.html",
        **merchant_bar_context(request, company_id=company_id, section=section, switch_url_name=switch_url_name),
    }


@login_required
def notification_list(request, company_id: int | None = None):
    frame = _frame(request, company_id, section="notifications", switch_url_name="notifications:merchant-list")
    page = Paginator(notification_list_for_user(user=request.user), PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        (
            notification,
            case_path(case_id=notification.case_id, company_id=notification.case.company_id, party=notification.party),
        )
        for notification in page
    ]
    return render(request, "notifications/notification_list.html", {"page": page, "rows": rows, **frame})


@login_required
def notification_open(request, notification_id: int):
    """Follow a notification to its case; reading it marks it read."""
    notification = notification_get_for_user(user=request.user, notification_id=notification_id)
    services.notification_mark_read(user=request.user, notification_id=notification.pk)
    return redirect(
        case_path(case_id=notification.case_id, company_id=notification.case.company_id, party=notification.party)
    )


@login_required
@require_POST
def notification_mark_read(request, notification_id: int):
    notification = notification_get_for_user(user=request.user, notification_id=notification_id)
    services.notification_mark_read(user=request.user, notification_id=notification.pk)
    return redirect("notifications:notification-list")


@login_required
@require_POST
def notifications_mark_all_read(request):
    marked = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} as read.")
    return redirect("notifications:notification-list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request, company_id: int | None = None):
    frame = _frame(request, company_id, section="settings", switch_url_name="notifications:merchant-preferences")
    current = UserPreferences.objects.filter(user=request.user).first()
    initial = {
        "resolution_center_emails": current.resolution_center_emails if current else True,
        "time_zone": current.time_zone if current else "UTC",
    }
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_preferences_update(user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your notification settings were saved.")
            if company_id is not None:
                return redirect("notifications:merchant-preferences", company_id)
            return redirect("notifications:preferences")
    status = 400 if form.is_bound else 200
    return render(request, "notifications/preferences.html", {"form": form, **frame}, status=status)
