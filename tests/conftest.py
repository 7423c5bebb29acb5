import shutil

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer


@pytest.fixture(autouse=True)
def _evidence_dir_per_test(settings, tmp_path):
    """Each test writes evidence to its own folder, removed afterwards."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def company(db):
    return CompanyFactory()


@pytest.fixture
def merchant(company):
    return merchant_of(company)


@pytest.fixture
def customer(db):
    return UserFactory()


@pytest.fixture
def payment(company, customer):
    return PaymentFactory(company=company, customer=customer)


@pytest.fixture
def reviewer_user(db):
    return reviewer()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need row locks and real concurrency; SQLite runs skip them."""
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True, scope="session")
def _timeline_guard_lifted_for_test_flush():
    """The database refuses to delete timeline rows; transactional tests still need their
    end-of-test flush, so the harness (only) lifts the guard for that one statement batch."""
    from tests.security.timeline_guard import timeline_guard_lifted_for_flush

    with timeline_guard_lifted_for_flush():
        yield
