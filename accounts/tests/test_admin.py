"""The accounts back office: every list loads, API keys are issued and revoked via services."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import ApiKey, SignInNonce
from accounts.services.api_keys import api_key_authenticate, api_key_issue
from accounts.services.sign_in import sign_in_nonce_issue
from accounts.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    WalletFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model", ["user", "wallet", "organization", "membership", "apikey", "signinnonce"]
)
def test_every_accounts_list_and_search_loads(operator, model):
    wallet = WalletFactory()
    membership = MembershipFactory(user=wallet.user)
    api_key_issue(organization=membership.organization, name="k", scopes=["read"])
    sign_in_nonce_issue()
    url = reverse(f"admin:accounts_{model}_changelist")

    assert operator.get(url).status_code == 200
    assert operator.get(url, {"q": wallet.address[:10]}).status_code == 200


def test_adding_a_key_issues_it_through_the_service_and_shows_the_secret_once(operator):
    organization = OrganizationFactory()

    response = operator.post(
        reverse("admin:accounts_apikey_add"),
        {"organization": organization.pk, "name": "partner", "scopes": ["read", "write"]},
        follow=True,
    )

    assert response.status_code == 200
    stored = ApiKey.objects.get()
    assert (stored.organization, stored.name, stored.scopes) == (
        organization,
        "partner",
        ["read", "write"],
    )
    [message] = [
        str(m) for m in get_messages(response.wsgi_request) if "not be shown again" in str(m)
    ]
    key = message.rsplit(" ", 1)[-1]
    assert key.startswith(f"fab_{stored.prefix}_")
    assert stored.key_hash == ApiKey.hash_key(key)
    assert api_key_authenticate(key=key) == stored

    change_page = operator.get(reverse("admin:accounts_apikey_change", args=[stored.pk]))
    assert key not in change_page.content.decode()


def test_revoke_action_revokes_through_the_service(operator):
    organization = OrganizationFactory()
    first = api_key_issue(organization=organization, name="a", scopes=["read"])
    second = api_key_issue(organization=organization, name="b", scopes=["ingest"])
    assert api_key_authenticate(key=first.key) is not None  # cached now

    response = operator.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [first.api_key.pk, second.api_key.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert ApiKey.objects.active().count() == 0
    assert api_key_authenticate(key=first.key) is None
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 API key(s) revoked."]


def test_keys_cannot_be_deleted_and_nonces_are_read_only(operator):
    issued = api_key_issue(organization=OrganizationFactory(), name="a", scopes=["read"])
    nonce = sign_in_nonce_issue()

    assert (
        operator.get(reverse("admin:accounts_apikey_delete", args=[issued.api_key.pk])).status_code
        == 403
    )
    assert operator.get(reverse("admin:accounts_signinnonce_add")).status_code == 403
    assert (
        operator.post(
            reverse("admin:accounts_signinnonce_change", args=[nonce.pk]), {"value": "changed123"}
        ).status_code
        == 403
    )
    assert SignInNonce.objects.get().value == nonce.value
