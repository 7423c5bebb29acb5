import httpx
import pytest
from whop_sdk import Whop
from whop_sdk.environment import WhopEnvironment

from api.credentials import api_key_create, customer_token_create


def sdk_for(base_url: str, secret: str, **kwargs) -> Whop:
    """Whop's official client, pointed at our server: only the base URL changes."""
    environment = WhopEnvironment(api=f"{base_url}/api/v1", vault=f"{base_url}/api/v1")
    # One connection per request: the live server's request threads then finish while the test's
    # database connection is still shared with them (a kept-alive one would close after the test).
    http = httpx.Client(timeout=30, headers={"Connection": "close"})
    return Whop(environment=environment, token=secret, max_retries=0, httpx_client=http, **kwargs)


def key_for(company, merchant, scope="write", name="Helpdesk sync") -> str:
    return api_key_create(company=company, actor=merchant, name=name, scope=scope)[1]


def token_for(customer, name="My scripts") -> str:
    return customer_token_create(user=customer, name=name)[1]


@pytest.fixture
def bearer():
    def headers(secret: str, **more) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}", **more}

    return headers
