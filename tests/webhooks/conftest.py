import pytest

from tests.factories import CompanyFactory, merchant_of
from webhooks.models import EventType
from webhooks.services import webhook_endpoint_create

from .receiver import start_receiver


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def endpoint_for(receiver):
    """An endpoint of ``company`` pointing at the receiver, which then knows its secret."""

    def make(company, owner=None, events=tuple(EventType.values)):
        owner = owner or merchant_of(company)
        endpoint = webhook_endpoint_create(actor=owner, company_id=company.pk, url=receiver.url, events=list(events))
        receiver.secret = endpoint.secret
        return endpoint

    return make


@pytest.fixture
def shop(db):
    return CompanyFactory()
