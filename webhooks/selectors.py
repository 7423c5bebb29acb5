"""Reads for the webhook pages: a company's endpoints, one endpoint's delivery log."""

from django.db.models import Prefetch, QuerySet

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

LOG_PAGE_SIZE = 50


def webhook_endpoints_for_company(*, company_id: int) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(company_id=company_id).order_by("created_at", "pk")


def webhook_endpoint_get(*, company_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(company_id=company_id, pk=endpoint_id).first()


def webhook_event_log(*, endpoint: WebhookEndpoint, limit: int = LOG_PAGE_SIZE) -> list[WebhookEvent]:
    """The latest events of an endpoint, each with its attempts (newest first): two queries."""
    return list(
        WebhookEvent.objects.filter(endpoint=endpoint)
        .order_by("-created_at", "-pk")
        .prefetch_related(Prefetch("deliveries", queryset=WebhookDelivery.objects.order_by("-attempt")))[:limit]
    )
