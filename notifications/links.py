"""Absolute links for emails: the customer's and the merchant's page of a case differ."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from payments.models import ActorKind


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _reverse_or(name: str, kwargs: dict, fallback: str) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return fallback


def case_path(*, case_id: int, company_id: int, party: str) -> str:
    """The case page the recipient can open: the merchant's one lives under the company, the
    reviewers' one in the admin."""
    if party == ActorKind.REVIEWER:
        return _reverse_or("admin:cases_case_change", {"object_id": case_id}, f"/admin/cases/case/{case_id}/change/")
    if party == ActorKind.MERCHANT:
        return _reverse_or(
            "merchant:case",
            {"company_id": company_id, "case_id": case_id},
            f"/merchant/{company_id}/cases/{case_id}/",
        )
    return _reverse_or("cases:case-detail", {"case_id": case_id}, f"/cases/{case_id}/")


def case_url(*, case, party: str) -> str:
    return absolute_url(case_path(case_id=case.pk, company_id=case.company_id, party=party))


def notifications_settings_url() -> str:
    return absolute_url(_reverse_or("notifications:preferences", {}, "/notifications/settings/"))
