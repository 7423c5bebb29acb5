"""The pages around the API: the merchant's Developers page (company keys) and the customer's
personal tokens. A secret is shown once, on the page right after it is made, then never again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from cases.views.merchant import merchant_view
from resolution_center.exceptions import ApplicationError, http_status_for

from .credentials import api_key_create, api_key_revoke, customer_token_create, customer_token_revoke
from .forms import ApiKeyForm, TokenForm
from .models import ApiKey, CustomerToken

SHOWN_SECRET = "api_secret_once"


def _bar_context(membership, *, section: str) -> dict:
    """What every merchant page shows above its content (as cases.views.merchant does)."""
    return {
        "company": membership.company,
        "membership": membership,
        "can_edit_settings": membership.can_manage_company,
        "companies": membership.user_companies,
        "open_resolutions": membership.open_resolutions,
        "section": section,
        "switch_url_name": "developers:home",
    }


def _secret_once(request) -> str:
    """The secret just made, shown on this one page view (then dropped from the session)."""
    return request.session.pop(SHOWN_SECRET, "")


@merchant_view()
def developers(request, membership):
    """Company keys: owners and admins make (name, scope) and revoke them; support members see the
    list. The key is shown once; the list shows its first characters and its last use."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    company = membership.company
    can_manage = membership.can_manage_company
    form = ApiKeyForm()
    status, error = 200, ""
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if not form.is_valid():
            status, error = 400, "The key was not made; please correct the marked fields."
        else:
            try:
                key, secret = api_key_create(company=company, actor=request.user, **form.cleaned_data)
            except ApplicationError as refused:
                status, error = http_status_for(refused), refused.message
            else:
                request.session[SHOWN_SECRET] = secret
                messages.success(request, f"Key “{key.name}” made. Copy it now: it will not be shown again.")
                return redirect("developers:home", company_id=company.pk)
    context = {
        **_bar_context(membership, section="developers"),
        "form": form,
        "can_manage": can_manage,
        "error": error,
        "secret": _secret_once(request) if request.method != "POST" else "",
        "keys": ApiKey.objects.filter(company=company).select_related("created_by", "revoked_by"),
    }
    return render(request, "api/developers.html", context, status=status)


@merchant_view(post_only=True)
def api_key_revoke_view(request, membership, key_id: int):
    key = ApiKey.objects.filter(company=membership.company, pk=key_id).select_related("company").first()
    if key is None:
        raise Http404
    try:
        api_key_revoke(key=key, actor=request.user)
    except ApplicationError as refused:
        context = {
            **_bar_context(membership, section="developers"),
            "form": ApiKeyForm(),
            "can_manage": membership.can_manage_company,
            "error": refused.message,
            "secret": "",
            "keys": ApiKey.objects.filter(company=membership.company).select_related("created_by", "revoked_by"),
        }
        return render(request, "api/developers.html", context, status=http_status_for(refused))
    messages.success(request, f"Key “{key.name}” revoked: calls with it are refused from now on.")
    return redirect("developers:home", company_id=membership.company.pk)


@login_required
def tokens(request):
    """The customer's personal tokens: each acts as them alone, on their own cases."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = TokenForm()
    status, error = 200, ""
    if request.method == "POST":
        form = TokenForm(request.POST)
        if not form.is_valid():
            status, error = 400, "The token was not made; please correct the marked fields."
        else:
            try:
                token, secret = customer_token_create(user=request.user, **form.cleaned_data)
            except ApplicationError as refused:
                status, error = http_status_for(refused), refused.message
            else:
                request.session[SHOWN_SECRET] = secret
                messages.success(request, f"Token “{token.name}” made. Copy it now: it will not be shown again.")
                return redirect("api-tokens")
    context = {
        "form": form,
        "error": error,
        "secret": _secret_once(request) if request.method != "POST" else "",
        "tokens": CustomerToken.objects.filter(user=request.user),
    }
    return render(request, "api/tokens.html", context, status=status)


@login_required
def token_revoke(request, token_id: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    token = CustomerToken.objects.filter(user=request.user, pk=token_id).first()
    if token is None:
        raise Http404
    customer_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked: calls with it are refused from now on.")
    return redirect("api-tokens")
