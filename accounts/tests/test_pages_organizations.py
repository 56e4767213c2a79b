"""The organization pages through Django's test client: every form valid, invalid (a
message, nothing stored) and forbidden (403, nothing stored), with the API's role rules."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey, AuditAction, AuditEvent, Membership, Organization, Role
from accounts.pages.current import SESSION_KEY
from accounts.services.api_keys import api_key_authenticate, api_key_issue
from accounts.services.organizations import organization_create
from accounts.tests.clients import as_key, as_user
from accounts.tests.factories import MembershipFactory, UserFactory, WalletFactory
from trace.services.projects import project_create

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+=", re.IGNORECASE)
HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture
def team():
    """An organization with an owner, an admin, a member and a viewer, each with a wallet."""
    owner = WalletFactory().user
    organization = organization_create(name="Acme Growth", owner=owner)
    people = {"owner": owner}
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        user = WalletFactory().user
        MembershipFactory(organization=organization, user=user, role=role)
        people[role] = user
    return organization, people


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(organization, tail: str = "") -> str:
    return f"/organizations/{organization.pk}/{tail}"


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _events(organization, action) -> int:
    return AuditEvent.objects.filter(organization=organization, action=action).count()


# --- guiding a new user -----------------------------------------------------------------


def test_dashboard_guides_a_user_without_an_organization_to_create_one():
    response = _as(UserFactory()).get("/trace/")

    assert response.status_code == 200
    assert "Start with your organization" in response.text
    assert 'href="/organizations/new"' in response.text
    assert "POST /api/v1/projects" not in response.text


def test_dashboard_of_an_organization_without_projects_names_the_next_step(team):
    organization, people = team

    response = _as(people["owner"]).get("/trace/")

    assert "No projects yet" in response.text
    assert "Start with your organization" not in response.text
    assert "/api/v1/" not in response.text.split("<footer")[0]


# --- create -----------------------------------------------------------------------------


def test_create_organization_makes_the_caller_owner_and_current():
    user = UserFactory()
    client = _as(user)

    response = client.post("/organizations/new", {"name": "  Orbit Labs "})

    organization = Organization.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/organizations/{organization.pk}/"
    assert (organization.name, organization.slug) == ("Orbit Labs", "orbit-labs")
    assert Membership.objects.get(organization=organization).role == Role.OWNER
    assert client.session[SESSION_KEY] == str(organization.pk)
    assert _events(organization, AuditAction.ORGANIZATION_CREATED) == 1
    page = client.get(response["Location"])
    assert "Orbit Labs is ready. You are its owner." in _messages(page)


def test_create_organization_refuses_a_blank_name_and_stores_nothing():
    response = _as(UserFactory()).post("/organizations/new", {"name": "   "})

    assert response.status_code == 400
    assert "This field is required." in response.text
    assert not Organization.objects.exists()
    assert not AuditEvent.objects.exists()


def test_inline_validation_shows_errors_and_stores_nothing():
    response = _as(UserFactory()).post(
        "/organizations/new", {"name": "x" * 201, "validate": "1"}, **HTMX
    )

    assert response.status_code == 200
    assert "Ensure this value has at most 200 characters" in response.text
    assert not Organization.objects.exists()


def test_an_htmx_submission_is_redirected_with_hx_redirect():
    response = _as(UserFactory()).post("/organizations/new", {"name": "Orbit"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/organizations/{Organization.objects.get().pk}/"


def test_pages_need_a_signed_in_user(team):
    organization, _ = team

    response = Client().get(_url(organization, "members/"))

    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")


# --- switch -----------------------------------------------------------------------------


def test_switch_keeps_the_chosen_organization_in_the_session(team):
    organization, people = team
    other = organization_create(name="Second", owner=people["viewer"])
    client = _as(people["viewer"])

    response = client.post("/organizations/switch", {"organization": str(other.pk)})

    assert response.status_code == 303
    assert client.session[SESSION_KEY] == str(other.pk)
    page = client.get("/trace/")
    assert page.context["current_membership"].organization_id == other.pk
    assert 'data-testid="organization-switch"' in page.text


def test_switch_to_someone_elses_organization_is_not_found(team):
    organization, _ = team
    client = _as(UserFactory())

    response = client.post("/organizations/switch", {"organization": str(organization.pk)})

    assert response.status_code == 404
    assert SESSION_KEY not in client.session


def test_another_organizations_pages_are_not_found(team):
    organization, _ = team

    response = _as(UserFactory()).get(_url(organization))

    assert response.status_code == 404


# --- settings ---------------------------------------------------------------------------


def test_admin_renames_the_organization(team):
    organization, people = team

    response = _as(people[Role.ADMIN]).post(_url(organization, "settings"), {"name": "Acme"})

    organization.refresh_from_db()
    assert response.status_code == 303
    assert organization.name == "Acme"
    event = AuditEvent.objects.get(action=AuditAction.ORGANIZATION_UPDATED)
    assert event.actor == people[Role.ADMIN]
    assert event.details == {"name": {"from": "Acme Growth", "to": "Acme"}}


def test_rename_refuses_a_blank_name(team):
    organization, people = team

    response = _as(people["owner"]).post(_url(organization, "settings"), {"name": ""})

    organization.refresh_from_db()
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert organization.name == "Acme Growth"
    assert _events(organization, AuditAction.ORGANIZATION_UPDATED) == 0


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_rename_is_forbidden_below_admin(team, role):
    organization, people = team
    client = _as(people[role])

    page = client.get(_url(organization, "settings"))
    response = client.post(_url(organization, "settings"), {"name": "Hijacked"})

    organization.refresh_from_db()
    assert page.status_code == 200
    assert 'id="settings-form"' not in page.text
    assert "Delete organization" not in page.text
    assert response.status_code == 403
    assert organization.name == "Acme Growth"
    assert _events(organization, AuditAction.ORGANIZATION_UPDATED) == 0


# --- members ----------------------------------------------------------------------------


def test_viewer_sees_members_without_write_controls(team):
    organization, people = team

    response = _as(people[Role.VIEWER]).get(_url(organization, "members/"))

    main = response.text.split("<main")[1]
    assert response.status_code == 200
    assert people["owner"].wallets.get().address in main
    for control in ("Add member", "Remove", "Transfer ownership", "<select", "<form", "API keys"):
        assert control not in main


def test_admin_adds_a_member_by_wallet_address(team):
    organization, people = team

    response = _as(people[Role.ADMIN]).post(
        _url(organization, "members/new"),
        {"wallet_address": NEW_ADDRESS.lower(), "role": Role.VIEWER},
    )

    assert response.status_code == 303
    membership = Membership.objects.get(
        organization=organization, user__wallets__address=NEW_ADDRESS
    )
    assert membership.role == Role.VIEWER
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_ADDED)
    assert (event.actor, event.target_label, event.details) == (
        people[Role.ADMIN],
        NEW_ADDRESS,
        {"role": "viewer"},
    )


def test_add_member_refuses_a_bad_address(team):
    organization, people = team
    before = Membership.objects.count()

    response = _as(people["owner"]).post(
        _url(organization, "members/new"), {"wallet_address": "0x123", "role": Role.MEMBER}
    )

    assert response.status_code == 400
    assert "Not an EVM (0x + 40 hex) or base58 Solana address." in response.text
    assert Membership.objects.count() == before
    assert _events(organization, AuditAction.MEMBER_ADDED) == 0


def test_add_member_refuses_an_existing_member_with_a_conflict(team):
    organization, people = team
    address = people[Role.VIEWER].wallets.get().address

    response = _as(people["owner"]).post(
        _url(organization, "members/new"), {"wallet_address": address, "role": Role.ADMIN}
    )

    assert response.status_code == 409
    assert "already a member" in response.text
    assert Membership.objects.get(user=people[Role.VIEWER]).role == Role.VIEWER


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_add_member_is_forbidden_below_admin(team, role):
    organization, people = team
    before = Membership.objects.count()

    response = _as(people[role]).post(
        _url(organization, "members/new"), {"wallet_address": NEW_ADDRESS, "role": Role.VIEWER}
    )

    assert response.status_code == 403
    assert Membership.objects.count() == before


def test_an_admin_is_offered_no_owner_role_and_a_forged_one_is_refused(team):
    organization, people = team
    client = _as(people[Role.ADMIN])
    before = Membership.objects.count()

    page = client.get(_url(organization, "members/new"))
    response = client.post(
        _url(organization, "members/new"), {"wallet_address": NEW_ADDRESS, "role": Role.OWNER}
    )

    assert '<option value="owner"' not in page.text
    assert '<option value="admin"' in page.text
    assert response.status_code == 403
    assert Membership.objects.count() == before


def test_owner_changes_a_role(team):
    organization, people = team
    membership = Membership.objects.get(user=people[Role.VIEWER])

    response = _as(people["owner"]).post(
        _url(organization, f"members/{membership.pk}/role"),
        {f"member-{membership.pk}-role": Role.ADMIN},
    )

    membership.refresh_from_db()
    assert response.status_code == 303
    assert membership.role == Role.ADMIN
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_ROLE_CHANGED)
    assert event.details == {"role": {"from": "viewer", "to": "admin"}}


def test_change_role_refuses_an_unknown_role(team):
    organization, people = team
    membership = Membership.objects.get(user=people[Role.VIEWER])

    response = _as(people["owner"]).post(
        _url(organization, f"members/{membership.pk}/role"),
        {f"member-{membership.pk}-role": "emperor"},
    )

    membership.refresh_from_db()
    assert response.status_code == 400
    assert "The role was not changed: see the member&#x27;s row." in response.text
    assert "Select a valid choice." in response.text
    assert membership.role == Role.VIEWER
    assert _events(organization, AuditAction.MEMBER_ROLE_CHANGED) == 0


def test_the_last_owner_cannot_be_demoted(team):
    organization, people = team
    owner = Membership.objects.get(user=people["owner"])

    response = _as(people["owner"]).post(
        _url(organization, f"members/{owner.pk}/role"), {f"member-{owner.pk}-role": Role.ADMIN}
    )

    owner.refresh_from_db()
    assert response.status_code == 409
    assert "An organization needs an owner" in response.text
    assert owner.role == Role.OWNER


@pytest.mark.parametrize(
    ("actor", "target", "new_role"),
    [
        (Role.VIEWER, Role.MEMBER, Role.ADMIN),  # viewers change nothing
        (Role.MEMBER, Role.VIEWER, Role.MEMBER),  # nor do members
        (Role.ADMIN, Role.VIEWER, Role.OWNER),  # only owners make owners
        (Role.ADMIN, "owner", Role.VIEWER),  # only owners change owners
    ],
)
def test_change_role_is_forbidden_as_in_the_api(team, actor, target, new_role):
    organization, people = team
    membership = Membership.objects.get(organization=organization, user=people[target])
    before = membership.role

    response = _as(people[actor]).post(
        _url(organization, f"members/{membership.pk}/role"),
        {f"member-{membership.pk}-role": new_role},
    )

    membership.refresh_from_db()
    assert response.status_code == 403
    assert membership.role == before
    assert _events(organization, AuditAction.MEMBER_ROLE_CHANGED) == 0


def test_remove_asks_for_confirmation_then_removes(team):
    organization, people = team
    membership = Membership.objects.get(user=people[Role.MEMBER])
    client = _as(people[Role.ADMIN])
    url = _url(organization, f"members/{membership.pk}/remove")

    confirm = client.get(url)
    response = client.post(url)

    assert confirm.status_code == 200
    assert 'id="confirm"' in confirm.text
    assert "Remove this member?" in confirm.text
    assert Membership.objects.filter(pk=membership.pk).exists() is False
    assert response.status_code == 303
    assert _events(organization, AuditAction.MEMBER_REMOVED) == 1


def test_remove_refuses_the_last_owner(team):
    organization, people = team
    owner = Membership.objects.get(user=people["owner"])

    response = _as(people["owner"]).post(_url(organization, f"members/{owner.pk}/remove"))

    assert response.status_code == 409
    assert Membership.objects.filter(pk=owner.pk).exists()
    assert _events(organization, AuditAction.MEMBER_REMOVED) == 0


@pytest.mark.parametrize(("actor", "target"), [(Role.VIEWER, Role.MEMBER), (Role.ADMIN, "owner")])
def test_remove_is_forbidden_as_in_the_api(team, actor, target):
    organization, people = team
    membership = Membership.objects.get(organization=organization, user=people[target])

    response = _as(people[actor]).post(_url(organization, f"members/{membership.pk}/remove"))

    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_owner_transfers_ownership(team):
    organization, people = team
    receiver = Membership.objects.get(user=people[Role.MEMBER])

    response = _as(people["owner"]).post(_url(organization, f"members/{receiver.pk}/transfer"))

    assert response.status_code == 303
    roles = dict(Membership.objects.filter(organization=organization).values_list("user", "role"))
    assert roles[people["owner"].pk] == Role.ADMIN
    assert roles[people[Role.MEMBER].pk] == Role.OWNER
    assert _events(organization, AuditAction.OWNERSHIP_TRANSFERRED) == 1


def test_transfer_ownership_is_forbidden_to_an_admin(team):
    organization, people = team
    receiver = Membership.objects.get(user=people[Role.MEMBER])

    response = _as(people[Role.ADMIN]).post(_url(organization, f"members/{receiver.pk}/transfer"))

    receiver.refresh_from_db()
    assert response.status_code == 403
    assert receiver.role == Role.MEMBER


# --- API keys ---------------------------------------------------------------------------


def test_a_secret_key_is_shown_once(team):
    organization, people = team
    client = _as(people[Role.ADMIN])

    response = client.post(
        _url(organization, "api-keys/new"), {"name": "Backend", "scopes": ["read", "write"]}
    )

    api_key = ApiKey.objects.get()
    key = response.context["issued"].key
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert f'value="{key}"' in response.text
    assert "it is shown only once" in response.text
    assert api_key_authenticate(key=key) == api_key
    assert (api_key.scopes, api_key.publishable_key, api_key.created_by) == (
        ["read", "write"],
        "",
        people[Role.ADMIN],
    )
    detail = client.get(_url(organization, f"api-keys/{api_key.pk}/"))
    assert key not in detail.text
    assert f"fab_{api_key.prefix}_…" in detail.text
    assert _events(organization, AuditAction.API_KEY_CREATED) == 1


def test_an_ingest_only_key_is_publishable_and_shown_again(team):
    organization, people = team
    client = _as(people["owner"])

    response = client.post(
        _url(organization, "api-keys/new"), {"name": "Site", "scopes": ["ingest"]}
    )

    key = response.context["issued"].key
    api_key = ApiKey.objects.get()
    assert api_key.publishable_key == key
    detail = client.get(_url(organization, f"api-keys/{api_key.pk}/"))
    assert f'value="{key}"' in detail.text
    listing = client.get(_url(organization, "api-keys/"))
    assert "never" in listing.text  # last used


def test_create_key_refuses_no_scope_and_stores_nothing(team):
    organization, people = team

    response = _as(people["owner"]).post(_url(organization, "api-keys/new"), {"name": "Site"})

    assert response.status_code == 400
    assert "This field is required." in response.text
    assert not ApiKey.objects.exists()
    assert _events(organization, AuditAction.API_KEY_CREATED) == 0


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_keys_are_for_owners_and_admins_only(team, role):
    organization, people = team
    client = _as(people[role])

    listing = client.get(_url(organization, "api-keys/"))
    response = client.post(_url(organization, "api-keys/new"), {"name": "X", "scopes": ["ingest"]})

    assert listing.status_code == 403
    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert not ApiKey.objects.exists()


def test_revoke_asks_then_stops_the_key(team):
    organization, people = team
    issued = api_key_issue(organization=organization, name="Backend", scopes=["read"])
    client = _as(people["owner"])
    url = _url(organization, f"api-keys/{issued.api_key.pk}/revoke")

    confirm = client.get(url)
    response = client.post(url)

    assert "Revoke this key?" in confirm.text
    assert response.status_code == 303
    assert api_key_authenticate(key=issued.key) is None
    assert as_key(issued.key).get(f"/api/v1/organizations/{organization.pk}").status_code == 401
    event = AuditEvent.objects.get(action=AuditAction.API_KEY_REVOKED)
    assert event.actor == people["owner"]


def test_revoke_is_forbidden_to_a_viewer(team):
    organization, people = team
    issued = api_key_issue(organization=organization, name="Backend", scopes=["read"])

    response = _as(people[Role.VIEWER]).post(
        _url(organization, f"api-keys/{issued.api_key.pk}/revoke")
    )

    assert response.status_code == 403
    assert api_key_authenticate(key=issued.key) is not None


# --- export and deletion ----------------------------------------------------------------


def test_export_streams_the_organizations_data(team):
    organization, people = team
    project_create(
        organization=organization, name="Dapp", chain="eip155:8453", contract_addresses=[]
    )
    api_key_issue(organization=organization, name="Backend", scopes=["read"])
    client = _as(people[Role.ADMIN])

    response = client.get(_url(organization, "export"))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="acme-growth-export.json"'
    document = json.loads(b"".join(response.streaming_content))
    assert document["format"] == "fabrknt-organization-export/1"
    assert document["organization"]["name"] == "Acme Growth"
    assert sorted(m["role"] for m in document["members"]) == ["admin", "member", "owner", "viewer"]
    assert [k["name"] for k in document["api_keys"]] == ["Backend"]
    assert "key_hash" not in json.dumps(document)
    assert [p["name"] for p in document["projects"]] == ["Dapp"]
    assert document["campaigns"] == []
    organization.refresh_from_db()
    assert organization.exported_at is not None


def test_export_is_forbidden_to_a_viewer(team):
    organization, people = team

    response = _as(people[Role.VIEWER]).get(_url(organization, "export"))

    organization.refresh_from_db()
    assert response.status_code == 403
    assert organization.exported_at is None


def test_delete_needs_a_fresh_export(team):
    organization, people = team
    Organization.objects.filter(pk=organization.pk).update(
        exported_at=timezone.now() - timedelta(hours=25)
    )

    response = _as(people["owner"]).post(
        _url(organization, "delete"), {"confirm_name": "Acme Growth"}
    )

    organization.refresh_from_db()
    assert response.status_code == 409
    assert "Download the organization&#x27;s export first" in response.text
    assert organization.deleted_at is None


def test_delete_refuses_a_wrong_name(team):
    organization, people = team
    Organization.objects.filter(pk=organization.pk).update(exported_at=timezone.now())

    response = _as(people["owner"]).post(_url(organization, "delete"), {"confirm_name": "Acme"})

    organization.refresh_from_db()
    assert response.status_code == 400
    assert "That is not this organization&#x27;s name." in response.text
    assert organization.deleted_at is None


def test_delete_is_for_owners_only(team):
    organization, people = team
    Organization.objects.filter(pk=organization.pk).update(exported_at=timezone.now())

    response = _as(people[Role.ADMIN]).post(
        _url(organization, "delete"), {"confirm_name": "Acme Growth"}
    )

    organization.refresh_from_db()
    assert response.status_code == 403
    assert organization.deleted_at is None


def test_a_deleted_organization_disappears_from_pages_and_api_and_its_keys_stop(team):
    organization, people = team
    issued = api_key_issue(organization=organization, name="Backend", scopes=["read"])
    client = _as(people["owner"])
    client.get(_url(organization, "export")).getvalue()

    response = client.post(_url(organization, "delete"), {"confirm_name": "Acme Growth"})

    organization.refresh_from_db()
    assert response.status_code == 303
    assert organization.deleted_at is not None
    assert client.get(_url(organization)).status_code == 404
    assert client.get("/organizations/").context["memberships"] == []
    api = as_user(people["owner"])
    assert api.get(f"/api/v1/organizations/{organization.pk}").status_code == 404
    assert api.get("/api/v1/organizations").json()["results"] == []
    assert as_key(issued.key).get(f"/api/v1/organizations/{organization.pk}").status_code == 401
    assert _events(organization, AuditAction.ORGANIZATION_DELETED) == 1
    assert _events(organization, AuditAction.API_KEY_REVOKED) == 1


# --- audit log --------------------------------------------------------------------------


def test_audit_log_lists_who_did_what_with_filters_and_pages(team):
    organization, people = team
    owner = people["owner"]
    project_create(
        organization=organization,
        name="Dapp",
        chain="eip155:8453",
        contract_addresses=[],
        actor=owner,
    )
    for number in range(55):
        api_key_issue(organization=organization, name=f"key {number}", scopes=["ingest"])
    client = _as(people[Role.VIEWER])

    first = client.get(_url(organization, "audit"))
    projects = client.get(_url(organization, "audit"), {"action": "project.created"})
    mine = client.get(_url(organization, "audit"), {"actor": str(owner.pk)})
    second = client.get(_url(organization, "audit"), {"page": "2"})

    assert first.status_code == 200
    assert first.context["page"].paginator.count == 57  # created, project, 55 keys
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 7
    assert [e.action for e in projects.context["page"]] == ["project.created"]
    assert owner.wallets.get().address in projects.text
    assert "Project created" in projects.text
    assert sorted(e.action for e in mine.context["page"]) == [
        "organization.created",
        "project.created",
    ]


def test_audit_log_of_another_organization_is_not_found(team):
    organization, _ = team

    assert _as(UserFactory()).get(_url(organization, "audit")).status_code == 404


# --- every page: no inline script, style or handler (the CSP allows none) ----------------


def test_pages_carry_no_inline_script_or_style(team):
    organization, people = team
    issued = api_key_issue(organization=organization, name="Site", scopes=["ingest"])
    membership = Membership.objects.get(user=people[Role.MEMBER])
    client = _as(people["owner"])
    paths = [
        "/organizations/",
        "/organizations/new",
        _url(organization),
        _url(organization, "members/"),
        _url(organization, "members/new"),
        _url(organization, f"members/{membership.pk}/remove"),
        _url(organization, f"members/{membership.pk}/transfer"),
        _url(organization, "api-keys/"),
        _url(organization, "api-keys/new"),
        _url(organization, f"api-keys/{issued.api_key.pk}/"),
        _url(organization, f"api-keys/{issued.api_key.pk}/revoke"),
        _url(organization, "settings"),
        _url(organization, "delete"),
        _url(organization, "audit"),
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER):
            assert not pattern.search(response.text), (path, pattern.pattern)
        assert "Content-Security-Policy" in response.headers
