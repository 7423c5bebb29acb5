"""The body of a webhook: Whop's event envelope around the case as the API shows it.

``{"id", "api_version": "v1", "type", "timestamp", "company_id", "data", "previous_attributes"}``,
``data`` being api.representation.case_representation read as the merchant (the endpoint belongs
to the company), with the actions the company's members may take now. The SDK's
``PostResolutionCenterCase{Created,Updated,Decided}Payload`` parse it (tests/webhooks).
"""

import json
from datetime import datetime

from api.representation import COMPANY_PREFIX, STATUS, case_representation, iso, public_id
from cases.models import Case
from cases.policy import case_actions_for
from payments.models import ActorKind

API_VERSION = "v1"


class _CompanyMember:
    """Any active member of the case's company, for the action policy: not the customer, not a reviewer."""

    is_authenticated = True
    is_active = True
    is_staff = False
    pk = None

    def has_perm(self, perm: str) -> bool:
        return False


def case_data(case: Case, *, now: datetime) -> dict:
    actions = case_actions_for(case=case, user=_CompanyMember(), now=now, member=True)
    return case_representation(case, viewer_party=ActorKind.MERCHANT, available_actions=actions.allowed)


def previous_attributes(*, case: Case, from_state: str | None) -> dict | None:
    """The fields that changed, with their values before the change (Whop's ``.updated`` events)."""
    if not from_state or from_state == case.status:
        return None
    before = {"state": from_state}
    if STATUS.get(from_state) != STATUS.get(case.status):
        before["status"] = STATUS.get(from_state)
    return before


def body_for(*, event_id: str, type: str, case: Case, at: datetime, data: dict, previous: dict | None) -> str:
    body = {
        "id": event_id,
        "api_version": API_VERSION,
        "type": type,
        "timestamp": iso(at),
        "company_id": public_id(COMPANY_PREFIX, case.company_id),
        "data": data,
    }
    if previous:
        body["previous_attributes"] = previous
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
