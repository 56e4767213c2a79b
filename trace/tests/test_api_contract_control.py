"""GET /api/v1/projects/{id}/contracts/{address}/verify-message and POST …/verify, against
real contracts on an in-process EVM."""

from __future__ import annotations

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from fabrknt.chain.tests.control_chain import (  # noqa: F401  (fixtures)
    ControlChain,
    control_chain_fixture,
    control_chain_module_fixture,
    personal_sign,
)
from trace.models import ContractVerification, ContractVerificationNonce
from trace.tests.callers import key_caller, member_caller
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain_project(control_chain: ControlChain, organization):
    return ProjectFactory(
        organization=organization,
        chain=control_chain.chain,
        contract_addresses=[control_chain.owned],
    )


def message_url(project, address: str) -> str:
    return f"/api/v1/projects/{project.pk}/contracts/{address}/verify-message"


def verify_url(project, address: str) -> str:
    return f"/api/v1/projects/{project.pk}/contracts/{address}/verify"


def test_a_member_gets_the_message_and_proves_control(member, chain_project, control_chain):
    response = member.get(message_url(chain_project, control_chain.owned.lower()))

    assert response.status_code == 200, response.content
    body = response.json()
    issued = ContractVerificationNonce.objects.get()
    assert body == {"message": issued.message, "expires_at": body["expires_at"]}
    assert (
        f"Organization: {member.organization.name} ({member.organization.pk})\n" in body["message"]
    )
    assert f"Contract: {control_chain.owned}\n" in body["message"]
    assert "Domain: testserver\n" in body["message"]

    signature = personal_sign(control_chain.owner, body["message"])
    response = member.post(
        verify_url(chain_project, control_chain.owned),
        {"message": body["message"], "signature": signature},
    )

    assert response.status_code == 200, response.content
    verification = ContractVerification.objects.get()
    assert response.json() == {
        "control_verified": True,
        "chain": control_chain.chain,
        "address": control_chain.owned,
        "method": "owner",
        "signer": control_chain.owner.address,
        "verified_at": verification.verified_at.isoformat().replace("+00:00", "Z"),
    }


def test_a_write_key_proves_control(organization, chain_project, control_chain):
    caller = key_caller(organization, "write")
    message = caller.get(message_url(chain_project, control_chain.owned)).json()["message"]

    response = caller.post(
        verify_url(chain_project, control_chain.owned),
        {"message": message, "signature": personal_sign(control_chain.deployer, message)},
    )

    assert response.status_code == 200, response.content
    assert response.json()["method"] == "deployer"


def test_a_wrong_signer_is_400_with_its_code_and_stores_nothing(
    member, chain_project, control_chain
):
    message = member.get(message_url(chain_project, control_chain.owned)).json()["message"]

    response = member.post(
        verify_url(chain_project, control_chain.owned),
        {"message": message, "signature": personal_sign(control_chain.stranger, message)},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "wrong_signer"
    assert ContractVerification.objects.count() == 0
    replay = member.post(
        verify_url(chain_project, control_chain.owned),
        {"message": message, "signature": personal_sign(control_chain.owner, message)},
    )
    assert (replay.status_code, replay.json()) == (
        400,
        {"detail": "This message was already used.", "code": "nonce_used"},
    )
    assert ContractVerification.objects.count() == 0


def test_a_chain_without_rpc_is_503_chain_not_configured(member, settings):
    settings.CHAIN_RPC_URLS = {}
    contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    project = ProjectFactory(
        organization=member.organization, chain="eip155:8453", contract_addresses=[contract]
    )
    message = member.get(message_url(project, contract)).json()["message"]

    response = member.post(verify_url(project, contract), {"message": message, "signature": "0x00"})

    assert response.status_code == 503
    assert response.json()["code"] == "chain_not_configured"
    assert ContractVerification.objects.count() == 0


def test_who_may_ask(organization, chain_project, control_chain):
    url = message_url(chain_project, control_chain.owned)
    assert member_caller(organization, Role.VIEWER).get(url).status_code == 403
    assert key_caller(organization, "read").get(url).status_code == 403
    assert key_caller(organization, "ingest").get(url).status_code == 403
    assert member_caller(OrganizationFactory()).get(url).status_code == 404
    assert key_caller(OrganizationFactory(), "write").get(url).status_code == 404
    assert Client().get(url).status_code == 401
    body = {"message": "x", "signature": "0x00"}
    assert (
        member_caller(OrganizationFactory())
        .post(verify_url(chain_project, control_chain.owned), body)
        .status_code
        == 404
    )
    assert ContractVerificationNonce.objects.count() == 0


def test_an_address_the_project_does_not_watch_is_404_and_garbage_is_400(
    member, chain_project, control_chain
):
    assert member.get(message_url(chain_project, control_chain.wallet)).status_code == 404
    response = member.get(message_url(chain_project, "0xnot-an-address"))
    assert response.status_code == 400
    assert response.json() == {
        "address": ["Enter a valid EVM address (0x followed by 40 hex digits)."],
        "code": "invalid",
    }
    assert ContractVerificationNonce.objects.count() == 0


def test_the_endpoints_are_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    ask = paths["/api/v1/projects/{id}/contracts/{address}/verify-message"]["get"]
    prove = paths["/api/v1/projects/{id}/contracts/{address}/verify"]["post"]
    assert {p["name"] for p in ask["parameters"]} == {"id", "address"}
    components = schema["components"]["schemas"]
    assert set(components["VerifyMessage"]["properties"]) == {"message", "expires_at"}
    assert set(components["VerifyInRequest"]["properties"]) == {"message", "signature"}
    assert set(components["Verification"]["properties"]) == {
        "control_verified", "chain", "address", "method", "signer", "verified_at",
    }  # fmt: skip
    assert {"200", "400", "403", "404"} <= set(ask["responses"])
    assert {"200", "400", "403", "404", "503"} <= set(prove["responses"])
