"""PATCH and DELETE /api/v1/projects/{id} (API.md): members (write) and write keys edit the
name and addresses (the chain is fixed) and archive; viewers and read keys get 403,
another organization's project 404; a refusal stores nothing."""

from __future__ import annotations

import pytest

from accounts.models import AuditAction, AuditEvent, Role
from trace.models import Project
from trace.tests.callers import key_caller, member_caller
from trace.tests.factories import ProjectFactory, evm_address

pytestmark = pytest.mark.django_db

EVM = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector


def _patch(caller, project, body):
    return caller.client.patch(
        f"/api/v1/projects/{project.pk}", data=body, content_type="application/json",
        **caller.headers,
    )  # fmt: skip


def _delete(caller, project):
    return caller.client.delete(f"/api/v1/projects/{project.pk}", **caller.headers)


@pytest.fixture
def project(organization):
    return ProjectFactory(organization=organization, name="Swapper")


def test_member_renames_and_replaces_addresses(member, project):
    response = _patch(member, project, {"name": "Swapper v2", "contract_addresses": [EVM.lower()]})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["contract_addresses"], body["chain"]) == (
        "Swapper v2",
        [EVM],
        "eip155:8453",
    )
    project.refresh_from_db()
    assert (project.name, project.contract_addresses) == ("Swapper v2", [EVM])
    event = AuditEvent.objects.get(action=AuditAction.PROJECT_UPDATED)
    assert (event.actor, event.details) == (
        member.user,
        {"changed": ["name", "contract_addresses"]},
    )


def test_a_write_key_edits_the_treasury_alone(organization, project):
    caller = key_caller(organization, "write")
    treasury = evm_address()

    response = _patch(caller, project, {"treasury_addresses": [treasury]})

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.treasury_addresses == [treasury]
    assert AuditEvent.objects.get(action=AuditAction.PROJECT_UPDATED).actor is None


def test_the_same_chain_is_accepted_another_is_refused_with_its_code(member, project):
    same = _patch(member, project, {"chain": "eip155:8453", "name": "Same chain"})
    other = _patch(member, project, {"chain": "eip155:1", "name": "Other chain"})

    assert same.status_code == 200
    assert other.status_code == 400
    assert other.json()["code"] == "chain_fixed"
    project.refresh_from_db()
    assert (project.chain, project.name) == ("eip155:8453", "Same chain")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Renamed", "contract_addresses": ["0x1234"]}, "contract_addresses"),
        ({"name": "Renamed", "treasury_addresses": [EVM, "nope"]}, "treasury_addresses"),
        ({"name": ""}, "name"),
        ({"name": "Renamed", "contract_addresses": "0xnotalist"}, "contract_addresses"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_input_is_400_with_a_code_and_nothing_is_stored(member, project, body, field):
    before = (project.name, project.contract_addresses, project.treasury_addresses)

    response = _patch(member, project, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()
    project.refresh_from_db()
    assert (project.name, project.contract_addresses, project.treasury_addresses) == before
    assert not AuditEvent.objects.filter(action=AuditAction.PROJECT_UPDATED).exists()


def test_a_body_that_is_not_an_object_is_400(member, project):
    response = _patch(member, project, ["name"])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("who", ["viewer", "read key"])
def test_viewers_and_read_keys_get_403_and_nothing_changes(organization, project, who):
    caller = (
        member_caller(organization, Role.VIEWER)
        if who == "viewer"
        else key_caller(organization, "read")
    )

    patched = _patch(caller, project, {"name": "Hijacked"})
    deleted = _delete(caller, project)

    assert (patched.status_code, deleted.status_code) == (403, 403)
    assert patched.json()["code"] == deleted.json()["code"] == "permission_denied"
    project.refresh_from_db()
    assert (project.name, project.archived_at) == ("Swapper", None)


def test_another_organizations_project_is_404(member):
    theirs = ProjectFactory(name="Theirs")

    patched = _patch(member, theirs, {"name": "Mine"})
    deleted = _delete(member, theirs)

    assert (patched.status_code, deleted.status_code) == (404, 404)
    theirs.refresh_from_db()
    assert (theirs.name, theirs.archived_at) == ("Theirs", None)


def test_delete_archives_hides_from_the_list_and_erases_nothing(member, project):
    kept = ProjectFactory(organization=member.organization, name="Kept")

    response = _delete(member, project)
    again = _delete(member, project)

    assert (response.status_code, again.status_code) == (204, 204)
    project.refresh_from_db()
    assert project.archived_at is not None
    assert Project.objects.count() == 2
    listed = member.get("/api/v1/projects").json()
    assert [row["id"] for row in listed["results"]] == [str(kept.pk)]
    assert member.get(f"/api/v1/projects/{project.pk}").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.PROJECT_ARCHIVED).count() == 1
