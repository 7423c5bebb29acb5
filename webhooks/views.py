"""The merchant's webhook pages under the Developers area: endpoints (add, change, rotate the secret,
disable/enable, delete) and each endpoint's delivery log with Resend. Owners and admins manage;
support members read. Thin: membership -> form -> service -> message + redirect."""

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from cases.views.merchant import merchant_view
from resolution_center.exceptions import ApplicationError, http_status_for

from . import services
from .forms import EndpointForm
from .selectors import webhook_endpoint_get, webhook_endpoints_for_company, webhook_event_log

SECRET_SESSION_KEY = "webhooks-secret-{}"


def _context(membership, **more) -> dict:
    """What the merchant bar above every merchant page needs, and this section's own."""
    return {
        "company": membership.company,
        "membership": membership,
        "can_edit_settings": membership.can_manage_company,
        "can_manage": membership.can_manage_company,
        "companies": membership.user_companies,
        "open_resolutions": membership.open_resolutions,
        "section": "developers",
        "switch_url_name": "webhooks:endpoints",
        **more,
    }


def _endpoint(membership, endpoint_id: int):
    endpoint = webhook_endpoint_get(company_id=membership.company_id, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def _show_secret_once(request, endpoint) -> None:
    request.session[SECRET_SESSION_KEY.format(endpoint.pk)] = endpoint.secret


@merchant_view()
def endpoint_list(request, membership):
    """The company's endpoints and the form that adds one."""
    form, error, status = EndpointForm(), "", 200
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if not membership.can_manage_company:
            error, status = "Only the company's owners and admins can manage webhooks.", 403
        elif not form.is_valid():
            error, status = "The endpoint was not added; please correct the marked fields.", 400
        else:
            try:
                endpoint = services.webhook_endpoint_create(
                    actor=request.user, company_id=membership.company_id, **form.cleaned_data
                )
            except ApplicationError as refused:
                error, status = refused.message, http_status_for(refused)
            else:
                _show_secret_once(request, endpoint)
                messages.success(request, "Endpoint added. Copy its signing secret now: it is shown only once.")
                return redirect("webhooks:endpoint", company_id=membership.company_id, endpoint_id=endpoint.pk)
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    context = _context(
        membership, form=form, error=error, endpoints=webhook_endpoints_for_company(company_id=membership.company_id)
    )
    return render(request, "webhooks/endpoint_list.html", context, status=status)


@merchant_view()
def endpoint_detail(request, membership, endpoint_id: int):
    """One endpoint: its settings, its secret (once, right after it was made or rotated), its log."""
    endpoint = _endpoint(membership, endpoint_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = EndpointForm(initial={"url": endpoint.url, "events": endpoint.events, "description": endpoint.description})
    error, status = "", 200
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if not membership.can_manage_company:
            error, status = "Only the company's owners and admins can manage webhooks.", 403
        elif not form.is_valid():
            error, status = "The endpoint was not saved; please correct the marked fields.", 400
        else:
            try:
                services.webhook_endpoint_update(
                    actor=request.user, company_id=membership.company_id, endpoint_id=endpoint.pk, **form.cleaned_data
                )
            except ApplicationError as refused:
                error, status = refused.message, http_status_for(refused)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("webhooks:endpoint", company_id=membership.company_id, endpoint_id=endpoint.pk)
    secret = request.session.pop(SECRET_SESSION_KEY.format(endpoint.pk), None) if request.method == "GET" else None
    context = _context(
        membership, endpoint=endpoint, form=form, error=error, secret=secret, log=webhook_event_log(endpoint=endpoint)
    )
    return render(request, "webhooks/endpoint_detail.html", context, status=status)


def _act(request, membership, endpoint_id: int, act, done: str):
    endpoint = _endpoint(membership, endpoint_id)
    try:
        result = act(endpoint)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
        return result
    return None


@merchant_view(post_only=True)
def endpoint_rotate(request, membership, endpoint_id: int):
    def act(endpoint):
        rotated = services.webhook_endpoint_secret_rotate(
            actor=request.user, company_id=membership.company_id, endpoint_id=endpoint.pk
        )
        _show_secret_once(request, rotated)
        return rotated

    _act(request, membership, endpoint_id, act, "New signing secret made. The previous one also signs for 24 hours.")
    return redirect("webhooks:endpoint", company_id=membership.company_id, endpoint_id=endpoint_id)


@merchant_view(post_only=True)
def endpoint_enabled(request, membership, endpoint_id: int):
    enabled = request.POST.get("enabled") == "1"
    _act(
        request,
        membership,
        endpoint_id,
        lambda endpoint: services.webhook_endpoint_enabled_set(
            actor=request.user, company_id=membership.company_id, endpoint_id=endpoint.pk, enabled=enabled
        ),
        "Endpoint enabled: events waiting for it are being sent."
        if enabled
        else "Endpoint disabled: nothing is sent to it.",
    )
    return redirect("webhooks:endpoint", company_id=membership.company_id, endpoint_id=endpoint_id)


@merchant_view(post_only=True)
def endpoint_delete(request, membership, endpoint_id: int):
    deleted = _act(
        request,
        membership,
        endpoint_id,
        lambda endpoint: (
            services.webhook_endpoint_delete(
                actor=request.user, company_id=membership.company_id, endpoint_id=endpoint.pk
            )
            or True
        ),
        "Endpoint deleted, with its delivery log.",
    )
    if deleted:
        return redirect("webhooks:endpoints", company_id=membership.company_id)
    return redirect("webhooks:endpoint", company_id=membership.company_id, endpoint_id=endpoint_id)


@merchant_view(post_only=True)
def event_resend(request, membership, endpoint_id: int, event_id: int):
    _act(
        request,
        membership,
        endpoint_id,
        lambda endpoint: services.webhook_event_resend(
            actor=request.user, company_id=membership.company_id, endpoint_id=endpoint.pk, event_id=event_id
        ),
        "Sent again under the same event id; the log shows the new attempt.",
    )
    return redirect("webhooks:endpoint", company_id=membership.company_id, endpoint_id=endpoint_id)
