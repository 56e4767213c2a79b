"""Organizations, members and API keys: roles, key scopes, other organizations' 404s."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey, Membership, Organization, User, Wallet
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import JsonClient, as_key, as_user
from accounts.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    WalletFactory,
)
from accounts.tests.signing import SolanaWallet, new_evm_account, personal_sign, siwe_text

pytestmark = pytest.mark.django_db


def member(organization: Organization, role: str) -> User:
    return MembershipFactory(organization=organization, role=role).user


def org_url(organization: Organization, tail: str = "") -> str:
    return f"/api/v1/organizations/{organization.pk}{tail}"


# --- organizations -------------------------------------------------------------------------


def test_create_makes_the_caller_owner_with_a_unique_slug():
    user = UserFactory()
    client = as_user(user)

    first = client.post("/api/v1/organizations", {"name": "Acme Labs"}, format="json")
    second = client.post("/api/v1/organizations", {"name": "Acme  labs!"}, format="json")
    third = client.post("/api/v1/organizations", {"name": "!!!"}, format="json")

    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 201)
    created = Organization.objects.get(pk=first.json()["id"])
    assert first.json() == {
        "id": str(created.pk),
        "name": "Acme Labs",
        "slug": "acme-labs",
        "created_at": created.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert second.json()["slug"] == "acme-labs-2"
    assert third.json()["slug"] == "organization"
    assert (
        list(Membership.objects.filter(user=user).values_list("role", flat=True)) == ["owner"] * 3
    )


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 201}, {"name": ["a"]}])
def test_create_validates_the_name(body):
    response = as_user(UserFactory()).post("/api/v1/organizations", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name", "code"]
    assert Organization.objects.count() == 0


def test_list_shows_only_the_callers_organizations_paginated_in_constant_queries():
    user = UserFactory()
    mine = [MembershipFactory(user=user, role=role).organization for role in ("owner", "viewer")]
    OrganizationFactory()  # someone else's
    client = as_user(user)
    client.get("/api/v1/organizations")  # warm per-process caches (IP rules, content types)

    with CaptureQueriesContext(connection) as few:
        response = client.get("/api/v1/organizations")
    MembershipFactory(user=user)
    with CaptureQueriesContext(connection) as more:
        client.get("/api/v1/organizations")

    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert sorted(o["id"] for o in body["results"]) == sorted(str(o.pk) for o in mine)
    assert len(few) == len(more)


def test_organizations_list_and_create_are_for_users_only():
    organization = OrganizationFactory()
    key = api_key_issue(organization=organization, name="k", scopes=["read", "write"]).key
    assert JsonClient().get("/api/v1/organizations").status_code == 401
    assert as_key(key).get("/api/v1/organizations").status_code == 403
    assert (
        as_key(key).post("/api/v1/organizations", {"name": "x"}, format="json").status_code == 403
    )
    assert Organization.objects.count() == 1


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_any_member_can_read_their_organization(role):
    organization = OrganizationFactory()
    response = as_user(member(organization, role)).get(org_url(organization))
    assert response.status_code == 200
    assert response.json()["slug"] == organization.slug


def test_other_organizations_are_404_for_users_and_keys():
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    user = member(mine, "owner")
    key = api_key_issue(organization=mine, name="k", scopes=["read", "write", "ingest"]).key
    for client in (as_user(user), as_key(key)):
        assert client.get(org_url(theirs)).status_code == 404
        assert client.get("/api/v1/organizations/not-a-uuid").status_code == 404


# --- API key scopes ------------------------------------------------------------------------


def test_a_read_key_can_read_its_organization():
    organization = OrganizationFactory()
    key = api_key_issue(organization=organization, name="reader", scopes=["read"]).key
    response = as_key(key).get(org_url(organization))
    assert response.status_code == 200
    assert response.json()["id"] == str(organization.pk)
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.parametrize("scopes", [["ingest"], ["write"], ["ingest", "write"]])
def test_a_key_without_read_scope_cannot_read_the_organization(scopes):
    # Its own organization: 403 saying which scope is lacking (another's would be 404).
    organization = OrganizationFactory()
    key = api_key_issue(organization=organization, name="k", scopes=scopes).key
    response = as_key(key).get(org_url(organization))
    assert response.status_code == 403
    assert response.json()["detail"] == "This API key lacks the `read` scope."


def test_a_revoked_key_is_refused_at_once_though_authentication_is_cached():
    organization = OrganizationFactory()
    owner = member(organization, "owner")
    issued = api_key_issue(organization=organization, name="k", scopes=["read"])
    assert as_key(issued.key).get(org_url(organization)).status_code == 200  # now cached

    revoke = as_user(owner).delete(org_url(organization, f"/api-keys/{issued.api_key.pk}"))

    assert revoke.status_code == 204
    refused = as_key(issued.key).get(org_url(organization))
    assert refused.status_code == 401
    assert refused.json() == {
        "detail": "Invalid or revoked API key.",
        "code": "authentication_failed",
    }
    assert (
        as_user(owner).delete(org_url(organization, f"/api-keys/{issued.api_key.pk}")).status_code
        == 204
    )  # revoking twice is harmless


@pytest.mark.redis
def test_revocation_is_immediate_with_the_redis_cache(redis_client):
    test_a_revoked_key_is_refused_at_once_though_authentication_is_cached()
    assert not [key for key in redis_client.keys("*apikey:*")]


def test_an_unknown_key_is_401():
    organization = OrganizationFactory()
    assert as_key("fab_deadbeef_nope").get(org_url(organization)).status_code == 401
    assert as_key("garbage").get(org_url(organization)).status_code == 401


# --- members -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("granter", "role", "status"),
    [
        ("owner", "owner", 201),
        ("owner", "admin", 201),
        ("owner", "viewer", 201),
        ("admin", "admin", 201),
        ("admin", "member", 201),
        ("admin", "owner", 403),
        ("member", "viewer", 403),
        ("viewer", "viewer", 403),
    ],
)
def test_member_permissions_by_role(granter, role, status):
    organization = OrganizationFactory()
    client = as_user(member(organization, granter))
    users_before = User.objects.count()
    address = new_evm_account().address

    response = client.post(
        org_url(organization, "/members"),
        {"wallet_address": address, "role": role},
        format="json",
    )

    assert response.status_code == status
    if status == 201:
        added = Membership.objects.get(
            organization=organization, role=role, user__wallets__address=address
        )
        assert response.json() == {
            "id": str(added.pk),
            "user_id": str(added.user_id),
            "wallet_address": address,
            "role": role,
            "created_at": added.created_at.isoformat().replace("+00:00", "Z"),
        }
    else:
        assert User.objects.count() == users_before
        assert not Wallet.objects.filter(address=address).exists()


def test_a_new_wallet_added_in_lower_case_signs_in_into_the_same_user():
    organization = OrganizationFactory()
    account = new_evm_account()
    response = as_user(member(organization, "owner")).post(
        org_url(organization, "/members"),
        {"wallet_address": account.address.lower(), "role": "member"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["wallet_address"] == account.address

    nonce = JsonClient().get("/api/v1/auth/nonce").json()["nonce"]
    text = siwe_text(address=account.address, nonce=nonce)
    signed_in = JsonClient().post(
        "/api/v1/auth/siwe", {"message": text, "signature": personal_sign(account, text)}
    )

    assert signed_in.json()["user"]["id"] == response.json()["user_id"]
    assert signed_in.json()["user"]["organizations"] == [
        {"id": str(organization.pk), "name": organization.name, "role": "member"}
    ]


def test_a_solana_wallet_can_be_added_and_an_existing_wallet_keeps_its_user():
    organization = OrganizationFactory()
    client = as_user(member(organization, "admin"))
    solana = SolanaWallet()
    existing = WalletFactory()

    added = client.post(
        org_url(organization, "/members"),
        {"wallet_address": solana.address, "role": "viewer"},
        format="json",
    )
    again = client.post(
        org_url(organization, "/members"),
        {"wallet_address": existing.address, "role": "member"},
        format="json",
    )

    assert (added.status_code, again.status_code) == (201, 201)
    assert Wallet.objects.get(address=solana.address).namespace == "solana"
    assert again.json()["user_id"] == str(existing.user_id)


def test_a_member_added_by_address_is_the_eoa_there_not_a_contract_wallet():
    organization = OrganizationFactory()
    contract = WalletFactory(kind="contract", chain="eip155:8453")

    response = as_user(member(organization, "owner")).post(
        org_url(organization, "/members"),
        {"wallet_address": contract.address, "role": "member"},
        format="json",
    )

    assert response.status_code == 201
    eoa = Wallet.objects.get(kind="eoa", address=contract.address)
    assert (eoa.namespace, eoa.chain) == ("eip155", "eip155:1")
    assert response.json()["user_id"] == str(eoa.user_id) != str(contract.user_id)
    assert not Membership.objects.filter(user=contract.user).exists()


def test_me_tells_an_eoa_from_a_contract_wallet():
    user = UserFactory()
    eoa = WalletFactory(user=user, kind="eoa", chain="eip155:1")
    contract = WalletFactory(user=user, kind="contract", chain="eip155:8453")

    response = as_user(user).get("/api/v1/me")

    assert response.json()["wallets"] == [
        {"chain": "eip155:1", "address": eoa.address, "kind": "eoa"},
        {"chain": "eip155:8453", "address": contract.address, "kind": "contract"},
    ]


def test_adding_a_member_twice_is_409_and_stores_nothing():
    organization = OrganizationFactory()
    existing = WalletFactory()
    Membership.objects.create(organization=organization, user=existing.user, role="viewer")
    client = as_user(member(organization, "owner"))

    response = client.post(
        org_url(organization, "/members"),
        {"wallet_address": existing.address, "role": "admin"},
        format="json",
    )

    assert response.status_code == 409
    assert "already a member" in response.json()["detail"]
    assert Membership.objects.get(user=existing.user).role == "viewer"


@pytest.mark.parametrize(
    "body",
    [
        {"wallet_address": "0x1234", "role": "member"},
        {"wallet_address": "0x" + "zz" * 20, "role": "member"},
        {"wallet_address": "not an address", "role": "member"},
        {"wallet_address": "0" * 44, "role": "member"},
        {"wallet_address": "0x" + "ab" * 20, "role": "god"},
        {"wallet_address": "0x" + "ab" * 20},
        {"role": "member"},
    ],
)
def test_bad_member_bodies_are_400(body):
    organization = OrganizationFactory()
    client = as_user(member(organization, "owner"))
    users_before = User.objects.count()
    response = client.post(org_url(organization, "/members"), body, format="json")
    assert response.status_code == 400
    assert User.objects.count() == users_before


def test_members_of_other_organizations_are_404_and_keys_cannot_manage_members():
    organization, other = OrganizationFactory(), OrganizationFactory()
    owner = member(organization, "owner")
    key = api_key_issue(organization=other, name="k", scopes=["read", "write"]).key
    body = {"wallet_address": new_evm_account().address, "role": "viewer"}

    assert as_user(owner).post(org_url(other, "/members"), body, format="json").status_code == 404
    assert as_key(key).post(org_url(other, "/members"), body, format="json").status_code == 403
    assert (
        as_key(key).post(org_url(organization, "/members"), body, format="json").status_code == 404
    )
    assert Membership.objects.count() == 1


# --- API keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_issue_keys_shown_once_and_stored_hashed(role):
    organization = OrganizationFactory()
    client = as_user(member(organization, role))

    response = client.post(
        org_url(organization, "/api-keys"),
        {"name": "ingest server", "scopes": ["read", "ingest", "read"]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    stored = ApiKey.objects.get()
    assert body["id"] == str(stored.pk)
    assert body["prefix"] == stored.prefix
    assert body["scopes"] == ["ingest", "read"] == stored.scopes
    assert body["key"].startswith(f"fab_{stored.prefix}_")
    assert stored.key_hash == ApiKey.hash_key(body["key"])
    assert body["key"] not in str(vars(stored))

    listing = client.get(org_url(organization, "/api-keys")).json()
    assert listing["count"] == 1
    assert listing["results"][0]["prefix"] == stored.prefix
    assert "key" not in listing["results"][0]
    assert body["key"] not in str(listing)


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_manage_keys(role):
    organization = OrganizationFactory()
    issued = api_key_issue(organization=organization, name="k", scopes=["read"])
    client = as_user(member(organization, role))
    url = org_url(organization, "/api-keys")

    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x", "scopes": ["read"]}, format="json").status_code == 403
    assert client.delete(f"{url}/{issued.api_key.pk}").status_code == 403
    assert ApiKey.objects.active().count() == 1


def test_keys_cannot_manage_keys():
    organization = OrganizationFactory()
    issued = api_key_issue(organization=organization, name="k", scopes=["read", "write", "ingest"])
    client = as_key(issued.key)
    url = org_url(organization, "/api-keys")

    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x", "scopes": ["read"]}, format="json").status_code == 403
    assert client.delete(f"{url}/{issued.api_key.pk}").status_code == 403
    assert ApiKey.objects.active().count() == 1


def test_keys_of_other_organizations_are_404():
    organization, other = OrganizationFactory(), OrganizationFactory()
    client = as_user(member(organization, "owner"))
    theirs = api_key_issue(organization=other, name="k", scopes=["read"])

    assert client.get(org_url(other, "/api-keys")).status_code == 404
    assert (
        client.post(
            org_url(other, "/api-keys"), {"name": "x", "scopes": ["read"]}, format="json"
        ).status_code
        == 404
    )
    assert client.delete(org_url(other, f"/api-keys/{theirs.api_key.pk}")).status_code == 404
    # Their key through my organization's path is not found either.
    assert client.delete(org_url(organization, f"/api-keys/{theirs.api_key.pk}")).status_code == 404
    assert ApiKey.objects.active().count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": "read"},
        {"name": "", "scopes": ["read"]},
        {"scopes": ["read"]},
        {"name": "x"},
    ],
)
def test_bad_key_bodies_are_400(body):
    organization = OrganizationFactory()
    response = as_user(member(organization, "owner")).post(
        org_url(organization, "/api-keys"), body, format="json"
    )
    assert response.status_code == 400
    assert ApiKey.objects.count() == 0
