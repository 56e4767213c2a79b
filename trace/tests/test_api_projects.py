from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from trace.models import Project
from trace.tests.callers import key_caller, member_caller
from trace.tests.factories import ContractVerificationFactory, ProjectFactory

URL = "/api/v1/projects"
EVM = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector
SOLANA = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"


def _body(org, **fields):
    return {
        "organization": str(org.pk),
        "name": "Swapper",
        "chain": "eip155:8453",
        "contract_addresses": [EVM.lower()],
        **fields,
    }


def test_member_creates_project_with_checksummed_addresses(member):
    body = _body(member.organization, treasury_addresses=["0X" + EVM[2:].upper()])
    response = member.post(URL, body)
    assert response.status_code == 201, response.content
    project = Project.objects.get()
    assert response.json() == {
        "id": str(project.pk),
        "organization": str(member.organization.pk),
        "name": "Swapper",
        "chain": "eip155:8453",
        "contract_addresses": [EVM],
        "contracts": [
            {"address": EVM, "control_verified": False, "verified_at": None, "method": None}
        ],
        "treasury_addresses": [EVM],
        "last_indexed_block": None,
        "created_at": response.json()["created_at"],
    }


def test_solana_project(member):
    response = member.post(
        URL, _body(member.organization, chain="solana:mainnet", contract_addresses=[SOLANA])
    )
    assert response.status_code == 201, response.content
    assert response.json()["contract_addresses"] == [SOLANA]


def test_write_key_creates_project(organization):
    caller = key_caller(organization, "write")
    assert caller.post(URL, _body(organization)).status_code == 201


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"chain": "ethereum"}, "chain"),
        ({"chain": "cosmos:hub-4"}, "chain"),
        ({"chain": "eip155:0x1"}, "chain"),
        ({"contract_addresses": ["0x1234"]}, "contract_addresses"),
        (
            {"contract_addresses": ["0x52908400098527886e0f7030069857D2E4169EE7"]},
            "contract_addresses",
        ),
        ({"contract_addresses": [SOLANA]}, "contract_addresses"),
        ({"chain": "solana:mainnet", "contract_addresses": [EVM]}, "contract_addresses"),
        ({"chain": "solana:mainnet", "contract_addresses": ["0OIl" * 11]}, "contract_addresses"),
        ({"contract_addresses": "0xabc"}, "contract_addresses"),
        ({"name": ""}, "name"),
        ({"organization": "nope"}, "organization"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(member, fields, field):
    response = member.post(URL, _body(member.organization, **fields))
    assert response.status_code == 400
    assert field in response.json()
    assert Project.objects.count() == 0


def test_other_organization_is_404_and_viewer_403(member):
    other = OrganizationFactory()
    assert member.post(URL, _body(other)).status_code == 404
    viewer = member_caller(member.organization, role=Role.VIEWER)
    assert viewer.post(URL, _body(member.organization)).status_code == 403
    read_key = key_caller(member.organization, "read", "ingest")
    assert read_key.post(URL, _body(member.organization)).status_code == 403
    assert Project.objects.count() == 0


def test_anonymous_is_401(organization):
    response = Client().post(URL, _body(organization), content_type="application/json")
    assert response.status_code == 401
    assert Project.objects.count() == 0


def _list_queries(caller) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = caller.get(URL)
    assert response.status_code == 200
    return len(queries.captured_queries), response.json()


def test_list_and_detail_are_scoped(member):
    mine = [ProjectFactory(organization=member.organization, name=f"P{n}") for n in range(3)]
    theirs = ProjectFactory()
    _list_queries(member)  # warms the per-process caches (IP rules)
    few_queries, body = _list_queries(member)
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [str(p.pk) for p in mine]
    for project in ProjectFactory.create_batch(5, organization=member.organization):
        ContractVerificationFactory(project=project)
    many_queries, body = _list_queries(member)
    assert (body["count"], many_queries) == (8, few_queries)

    assert member.get(f"{URL}/{mine[0].pk}").json()["name"] == "P0"
    assert member.get(f"{URL}/{theirs.pk}").status_code == 404
    read_key = key_caller(member.organization, "read")
    assert read_key.get(f"{URL}/{mine[1].pk}").status_code == 200


def test_the_project_says_which_contracts_are_control_verified(member):
    other = "0x" + "Ab" * 20
    project = ProjectFactory(organization=member.organization, contract_addresses=[EVM, other])
    proof = ContractVerificationFactory(project=project, contract_address=EVM, method="deployer")
    ContractVerificationFactory(contract_address=other)  # another project's proof

    body = member.get(f"{URL}/{project.pk}").json()

    assert body["contract_addresses"] == [EVM, other]
    assert body["contracts"] == [
        {
            "address": EVM,
            "control_verified": True,
            "verified_at": proof.verified_at.isoformat().replace("+00:00", "Z"),
            "method": "deployer",
        },
        {"address": other, "control_verified": False, "verified_at": None, "method": None},
    ]
