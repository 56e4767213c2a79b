from __future__ import annotations

import pytest

from accounts.services.sign_in import sign_in_nonce_issue
from accounts.tests.clients import JsonClient


@pytest.fixture
def api() -> JsonClient:
    return JsonClient()


@pytest.fixture
def nonce(db) -> str:
    return sign_in_nonce_issue().value
