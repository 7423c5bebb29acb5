"""The webhook endpoints' management under /api/v1/webhooks, shaped as whop-sdk 2.6.0's ``webhooks``
resource (``Webhook``, ``WebhookListItem``, ``WebhookDelivery``): list, create, retrieve, update,
delete, list_deliveries and replay_delivery. Company API keys only; reading needs any key, changing
a read-and-write key made by an owner or admin (the services' guard). Added to the API in
WebhooksConfig.ready, so the API's auth, errors and rate limit apply unchanged."""

from typing import Literal

from django.db.models import Q
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from api.representation import COMPANY_PREFIX, iso, public_id
from api.selectors import NotFound
from api.v1 import ERRORS
from resolution_center.exceptions import NotAllowedError

from . import services
from .delivery import webhook_event_deliver
from .models import EventType, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])
EventName = Literal[
    "resolution_center_case.created", "resolution_center_case.updated", "resolution_center_case.decided"
]
MAX_PAGE = 100


class Out(Schema):
    model_config = ConfigDict(extra="allow")


class WebhookOut(Out):
    id: str = Field(description="Webhook id, prefixed hook_.")
    url: str
    enabled: bool
    events: list[str]
    testable_events: list[str]
    api_version: str = "v1"
    api_version_date: str | None = None
    child_resource_events: bool = False
    consecutive_failures: int
    created_at: str
    disabled_at: str | None
    disabled_reason: str | None
    failing_since: str | None
    last_failure_at: str | None
    resource_id: str = Field(description="The company the endpoint belongs to, prefixed biz_.")
    webhook_secret: str | None = Field(description="The ws_ signing secret: only on the create response.")


class PageInfoOut(Out):
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class WebhookListOut(Out):
    data: list[WebhookOut]
    page_info: PageInfoOut


class DeliveryOut(Out):
    id: str
    event: str | None
    request_body: dict
    resource_id: str
    response_body: dict | None
    response_code: float
    sent_at: str
    success: bool
    total_time: float
    replayed_from: str | None = None
    event_id: str = Field(description="Ours: the event's id (webhook-id), the same on every attempt.")
    attempt: int
    error: str


class DeliveryListOut(Out):
    data: list[DeliveryOut]
    page_info: PageInfoOut


class ReplayOut(Out):
    body: str
    status: int
    success: bool


class DeletedOut(Out):
    id: str
    deleted: bool


class WebhookIn(Schema):
    url: str
    events: list[EventName] | None = None
    enabled: bool | None = None
    api_version_date: str | None = None
    child_resource_events: bool | None = None
    resource_id: str | None = None


class WebhookUpdateIn(Schema):
    url: str | None = None
    events: list[EventName] | None = None
    enabled: bool | None = None
    api_version_date: str | None = None
    child_resource_events: bool | None = None


class ReplayIn(Schema):
    model_config = ConfigDict(extra="allow")


def _company_key(request):
    caller = request.auth
    if caller.api_key is None:
        raise NotAllowedError("Webhooks belong to a company: use one of its API keys, not a personal token.")
    return caller


def _writer(request):
    caller = _company_key(request)
    if not caller.can_write:
        raise NotAllowedError("This API key is read-only; make a read-and-write key on the Developers page to act.")
    return caller


def _endpoint_out(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict:
    return {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "enabled": endpoint.enabled,
        "events": list(endpoint.events),
        "testable_events": list(EventType.values),
        "api_version": "v1",
        "api_version_date": None,
        "child_resource_events": False,
        "consecutive_failures": endpoint.consecutive_failures,
        "created_at": iso(endpoint.created_at),
        "disabled_at": iso(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason or None,
        "failing_since": iso(endpoint.failing_since),
        "last_failure_at": iso(endpoint.last_failure_at),
        "resource_id": public_id(COMPANY_PREFIX, endpoint.company_id),
        "webhook_secret": endpoint.secret if secret else None,
    }


def _endpoint(caller, hook_id: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(public_id=hook_id, company_id=caller.company_id).first()
    if endpoint is None:
        raise NotFound("No webhook with this id belongs to your company.")
    return endpoint


def _page(items: list, has_next: bool, cursor) -> dict:
    return {
        "has_next_page": has_next,
        "has_previous_page": False,
        "start_cursor": cursor(items[0]) if items else None,
        "end_cursor": cursor(items[-1]) if items else None,
    }


@router.get("", response={200: WebhookListOut, **ERRORS})
def list_webhooks(request, first: int = MAX_PAGE, after: str | None = None, has_failures: bool | None = None):
    caller = _company_key(request)
    endpoints = WebhookEndpoint.objects.filter(company_id=caller.company_id).order_by("-created_at", "-pk")
    if has_failures:
        endpoints = endpoints.filter(failing_since__isnull=False)
    if after:
        anchor = WebhookEndpoint.objects.filter(public_id=after, company_id=caller.company_id).first()
        if anchor is not None:
            endpoints = endpoints.filter(
                Q(created_at__lt=anchor.created_at) | Q(created_at=anchor.created_at, pk__lt=anchor.pk)
            )
    size = max(1, min(first, MAX_PAGE))
    rows = list(endpoints[: size + 1])
    return Status(
        200,
        {
            "data": [_endpoint_out(e) for e in rows[:size]],
            "page_info": _page(rows[:size], len(rows) > size, lambda e: e.public_id),
        },
    )


@router.post("", response={200: WebhookOut, **ERRORS})
def create_webhook(request, payload: WebhookIn):
    caller = _writer(request)
    if payload.resource_id and payload.resource_id != public_id(COMPANY_PREFIX, caller.company_id):
        raise NotFound("Webhooks can be made only for your own company (resource_id).")
    endpoint = services.webhook_endpoint_create(
        actor=caller.user,
        company_id=caller.company_id,
        url=payload.url,
        events=list(payload.events or EventType.values),
    )
    if payload.enabled is False:
        endpoint = services.webhook_endpoint_enabled_set(
            actor=caller.user, company_id=caller.company_id, endpoint_id=endpoint.pk, enabled=False
        )
    return Status(200, _endpoint_out(endpoint, secret=True))


@router.get("/{id}", response={200: WebhookOut, **ERRORS})
def retrieve_webhook(request, id: str):
    return Status(200, _endpoint_out(_endpoint(_company_key(request), id)))


@router.patch("/{id}", response={200: WebhookOut, **ERRORS})
def update_webhook(request, id: str, payload: WebhookUpdateIn):
    caller = _writer(request)
    endpoint = _endpoint(caller, id)
    if payload.url is not None or payload.events is not None:
        endpoint = services.webhook_endpoint_update(
            actor=caller.user,
            company_id=caller.company_id,
            endpoint_id=endpoint.pk,
            url=payload.url if payload.url is not None else endpoint.url,
            events=list(payload.events) if payload.events is not None else endpoint.events,
            description=endpoint.description,
        )
    if payload.enabled is not None and payload.enabled != endpoint.enabled:
        endpoint = services.webhook_endpoint_enabled_set(
            actor=caller.user, company_id=caller.company_id, endpoint_id=endpoint.pk, enabled=payload.enabled
        )
    return Status(200, _endpoint_out(endpoint))


@router.delete("/{id}", response={200: DeletedOut, **ERRORS})
def delete_webhook(request, id: str):
    caller = _writer(request)
    endpoint = _endpoint(caller, id)
    services.webhook_endpoint_delete(actor=caller.user, company_id=caller.company_id, endpoint_id=endpoint.pk)
    return Status(200, {"id": id, "deleted": True})


def _delivery_out(delivery: WebhookDelivery) -> dict:
    import json

    event = delivery.event
    response_body = None
    if delivery.response_body:
        try:
            parsed = json.loads(delivery.response_body)
            response_body = parsed if isinstance(parsed, dict) else {"raw_body": delivery.response_body[:100]}
        except ValueError:
            response_body = {"error": "not JSON", "raw_body": delivery.response_body[:100]}
    return {
        "id": delivery.public_id,
        "event": event.type,
        "request_body": json.loads(event.body),
        "resource_id": public_id(COMPANY_PREFIX, event.endpoint.company_id),
        "response_body": response_body,
        "response_code": float(delivery.response_status or 0),
        "sent_at": iso(delivery.sent_at),
        "success": delivery.success,
        "total_time": delivery.latency_ms / 1000,
        "replayed_from": None,
        "event_id": event.public_id,
        "attempt": delivery.attempt,
        "error": delivery.error,
    }


@router.get("/{id}/deliveries", response={200: DeliveryListOut, **ERRORS})
def list_deliveries(request, id: str, first: int = MAX_PAGE, after: str | None = None):
    endpoint = _endpoint(_company_key(request), id)
    deliveries = (
        WebhookDelivery.objects.filter(event__endpoint=endpoint).select_related("event__endpoint").order_by("-pk")
    )
    if after:
        anchor = WebhookDelivery.objects.filter(public_id=after, event__endpoint=endpoint).first()
        if anchor is not None:
            deliveries = deliveries.filter(pk__lt=anchor.pk)
    size = max(1, min(first, MAX_PAGE))
    rows = list(deliveries[: size + 1])
    return Status(
        200,
        {
            "data": [_delivery_out(d) for d in rows[:size]],
            "page_info": _page(rows[:size], len(rows) > size, lambda d: d.public_id),
        },
    )


@router.post("/{id}/deliveries/{delivery_id}/replay", response={200: ReplayOut, **ERRORS})
def replay_delivery(request, id: str, delivery_id: str, payload: ReplayIn | None = None):
    """Send the delivery's event again now, under its same id (the page's Resend), and answer with
    what the endpoint said; a failed replay is retried like any delivery."""
    caller = _writer(request)
    endpoint = _endpoint(caller, id)
    delivery = WebhookDelivery.objects.filter(public_id=delivery_id, event__endpoint=endpoint).first()
    if delivery is None:
        raise NotFound("No delivery with this id belongs to this webhook.")
    services.webhook_event_resend(
        actor=caller.user,
        company_id=caller.company_id,
        endpoint_id=endpoint.pk,
        event_id=delivery.event_id,
        now=timezone.now(),
        queue=False,
    )
    webhook_event_deliver(event_id=delivery.event_id)
    attempt = WebhookDelivery.objects.filter(event_id=delivery.event_id).order_by("-attempt").first()
    return Status(
        200, {"body": attempt.response_body, "status": attempt.response_status or 0, "success": attempt.success}
    )
