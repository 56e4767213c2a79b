"""Proving control of a contract: real contract bytecode on an in-process EVM (py-evm via
eth-tester), real eth-account keys; Solana against a local JSON-RPC server and a PyNaCl
upgrade authority."""

from __future__ import annotations

import datetime as dt

import base58
import pytest
from nacl.signing import SigningKey

from accounts.tests.factories import OrganizationFactory
from fabrknt.api.errors import InvalidInput, NotFound
from fabrknt.chain.tests.control_chain import (  # noqa: F401  (fixtures)
    ControlChain,
    control_chain_fixture,
    control_chain_module_fixture,
    personal_sign,
)
from fabrknt.chain.tests.solana_rpc import SolanaRpc, solana_rpc_fixture  # noqa: F401
from trace.models import ContractVerification, ContractVerificationNonce, Project
from trace.services.contract_control import (
    ChainUnreadable,
    ContractControlRefused,
    ContractStatus,
    contract_control_verify,
    contract_verification_message_issue,
    contract_verification_nonces_purge,
    project_contracts_status,
)
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
VERIFICATION_FIELDS = ("project_id", "chain", "contract_address", "method", "signer", "message",
                       "signature", "verified_at")  # fmt: skip


@pytest.fixture
def project(control_chain: ControlChain) -> Project:
    chain = control_chain
    return ProjectFactory(
        name="Swapper",
        organization__name="Acme Labs",
        chain=chain.chain,
        contract_addresses=[chain.owned, chain.safe_owned, chain.factory_made, chain.ownerless],
    )


def issue(project: Project, contract: str, *, now: dt.datetime = NOW) -> str:
    return contract_verification_message_issue(
        project=project, address=contract, domain="suite.fabrknt.example", now=now
    ).message


def verify(project: Project, contract: str, message: str, signature: str):
    return contract_control_verify(
        project=project, address=contract, message=message, signature=signature, now=NOW
    )


def stored() -> list[tuple]:
    return list(ContractVerification.objects.values_list(*VERIFICATION_FIELDS))


def refused(project, contract, message, signature) -> tuple[str, str]:
    with pytest.raises(ContractControlRefused) as caught:
        verify(project, contract, message, signature)
    return caught.value.code, caught.value.detail


# --- the message ------------------------------------------------------------------------


def test_the_message_names_everything_the_signer_vouches_for(project, control_chain, settings):
    settings.CONTRACT_VERIFICATION_TTL = dt.timedelta(hours=24)
    project.organization.name = "Acme\nLabs\u202e"  # a line break and a bidi control
    project.organization.save()

    issued = contract_verification_message_issue(
        project=project,
        address=control_chain.owned.lower(),  # any case: stored and named checksummed
        domain="suite.fabrknt.example",
        now=NOW,
    )

    nonce = issued.nonce
    assert len(nonce) == 24 and nonce.isalnum()
    assert issued.message == (
        "suite.fabrknt.example asks you to prove that you control a contract, for Fabrknt "
        "TRACE.\n"
        "\n"
        "Sign with the key of the contract's owner or deployer (EVM) or the program's upgrade "
        "authority (Solana). Signing this message vouches that the organization below speaks "
        "for the contract. It sends no transaction and costs no gas.\n"
        "\n"
        f"Organization: Acme Labs ({project.organization_id})\n"
        f"Project: Swapper ({project.id})\n"
        f"Chain: {control_chain.chain}\n"
        f"Contract: {control_chain.owned}\n"
        "Domain: suite.fabrknt.example\n"
        f"Nonce: {nonce}\n"
        "Issued At: 2025-05-06T07:08:09Z\n"
        "Expiration Time: 2025-05-07T07:08:09Z"
    )
    assert (issued.project, issued.contract_address, issued.expires_at, issued.used_at) == (
        project,
        control_chain.owned,
        NOW + dt.timedelta(hours=24),
        None,
    )


def test_a_contract_the_project_does_not_watch_is_not_found(project, control_chain):
    with pytest.raises(NotFound):
        issue(project, control_chain.wallet)
    with pytest.raises(InvalidInput) as caught:
        issue(project, "0x1234")
    assert caught.value.fields == {
        "address": ["Enter a valid EVM address (0x followed by 40 hex digits)."]
    }
    assert ContractVerificationNonce.objects.count() == 0


# --- EVM: who may sign ------------------------------------------------------------------


def test_the_owner_proves_control(project, control_chain):
    message = issue(project, control_chain.owned)
    signature = personal_sign(control_chain.owner, message)

    verification = verify(project, control_chain.owned, message, signature)

    assert stored() == [
        (project.id, control_chain.chain, control_chain.owned, "owner",
         control_chain.owner.address, message, signature, NOW),
    ]  # fmt: skip
    assert verification.method == "owner"
    assert ContractVerificationNonce.objects.get().used_at == NOW


def test_the_deployer_proves_control(project, control_chain):
    message = issue(project, control_chain.owned)

    verify(project, control_chain.owned, message, personal_sign(control_chain.deployer, message))

    assert [(v[3], v[4]) for v in stored()] == [("deployer", control_chain.deployer.address)]


def test_the_deployer_of_a_contract_without_owner_proves_control(project, control_chain):
    message = issue(project, control_chain.ownerless)

    verify(
        project, control_chain.ownerless, message, personal_sign(control_chain.deployer, message)
    )

    assert [(v[2], v[3], v[4]) for v in stored()] == [
        (control_chain.ownerless, "deployer", control_chain.deployer.address)
    ]


def test_a_stranger_is_refused_stores_nothing_and_spends_the_message(project, control_chain):
    message = issue(project, control_chain.owned)

    code, detail = refused(
        project, control_chain.owned, message, personal_sign(control_chain.stranger, message)
    )

    assert code == "wrong_signer"
    assert detail == (
        f"The signature is not by the contract's owner() ({control_chain.owner.address}) nor "
        "by its deployer, and no contract owner accepts it (EIP-1271)."
    )
    assert stored() == []
    # Spent by the first attempt: the owner's signature of the same text comes too late.
    assert refused(
        project, control_chain.owned, message, personal_sign(control_chain.owner, message)
    ) == ("nonce_used", "This message was already used.")
    assert stored() == []


def test_a_contract_wallet_owner_proves_control_by_eip1271(project, control_chain):
    message = issue(project, control_chain.safe_owned)
    signature = personal_sign(control_chain.safe_signer, message)

    verify(project, control_chain.safe_owned, message, signature)

    # The proof names the wallet that vouched, not the key behind it.
    assert [(v[2], v[3], v[4]) for v in stored()] == [
        (control_chain.safe_owned, "eip1271", control_chain.wallet)
    ]


def test_a_contract_wallet_refuses_a_strangers_signature(project, control_chain):
    message = issue(project, control_chain.safe_owned)

    code, _ = refused(
        project, control_chain.safe_owned, message, personal_sign(control_chain.stranger, message)
    )

    assert code == "wrong_signer"
    assert stored() == []


def test_a_factory_made_contract_is_proven_only_through_owner(project, control_chain):
    """No receipt names a contract a factory created, so its deployer cannot be found: the
    sender of the factory call cannot prove control; its owner() can."""
    first = issue(project, control_chain.factory_made)
    code, _ = refused(
        project, control_chain.factory_made, first, personal_sign(control_chain.stranger, first)
    )
    assert code == "wrong_signer"

    second = issue(project, control_chain.factory_made)
    verify(project, control_chain.factory_made, second, personal_sign(control_chain.owner, second))

    assert [(v[3], v[4]) for v in stored()] == [("owner", control_chain.owner.address)]


def test_after_a_transfer_of_ownership_the_new_owner_proves_control(project, control_chain):
    control_chain.transfer_ownership(
        control_chain.owned, control_chain.owner, control_chain.stranger.address
    )
    message = issue(project, control_chain.owned)

    verify(project, control_chain.owned, message, personal_sign(control_chain.stranger, message))

    assert [(v[3], v[4]) for v in stored()] == [("owner", control_chain.stranger.address)]


@pytest.mark.parametrize(
    "signature",
    ["", "0x", "nothex", "0x123", "0x" + "00" * 65, "0x" + "ab" * 5000],
)
def test_malformed_or_garbage_signatures_are_refused(project, control_chain, signature):
    message = issue(project, control_chain.owned)

    with pytest.raises(ContractControlRefused) as caught:
        verify(project, control_chain.owned, message, signature)

    assert caught.value.code in {"malformed_signature", "wrong_signer"}
    assert stored() == []


# --- the message is single use, bound and timed -----------------------------------------


def test_an_expired_message_is_refused(project, control_chain, settings):
    settings.CONTRACT_VERIFICATION_TTL = dt.timedelta(minutes=10)
    message = issue(project, control_chain.owned, now=NOW - dt.timedelta(minutes=11))

    assert refused(
        project, control_chain.owned, message, personal_sign(control_chain.owner, message)
    ) == ("nonce_expired", "This message has expired.")
    assert stored() == []


def test_a_message_for_another_project_or_contract_is_foreign_and_not_spent(project, control_chain):
    squatter = ProjectFactory(chain=control_chain.chain, contract_addresses=[control_chain.owned])
    message = issue(project, control_chain.owned)
    signature = personal_sign(control_chain.owner, message)

    # The owner's signature for Acme, replayed by a squatter watching the same contract.
    assert refused(squatter, control_chain.owned, message, signature)[0] == "foreign_message"
    # ... or at another of Acme's contracts.
    assert refused(project, control_chain.ownerless, message, signature)[0] == "foreign_message"
    assert stored() == []
    assert ContractVerificationNonce.objects.get().used_at is None

    verify(project, control_chain.owned, message, signature)
    assert [v[0] for v in stored()] == [project.id]


def test_an_edited_message_is_refused(project, control_chain):
    message = issue(project, control_chain.owned)
    edited = message.replace("Acme Labs", "Squat Inc")

    code, _ = refused(
        project, control_chain.owned, edited, personal_sign(control_chain.owner, edited)
    )

    assert code == "message_mismatch"
    assert stored() == []


def test_a_text_without_nonce_is_malformed(project, control_chain):
    code, _ = refused(project, control_chain.owned, "hello", "0x00")
    assert code == "malformed_message"


def test_a_chain_without_rpc_is_unavailable_and_spends_nothing(settings):
    settings.CHAIN_RPC_URLS = {}
    contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    project = ProjectFactory(chain="eip155:8453", contract_addresses=[contract])
    message = issue(project, contract)

    with pytest.raises(ChainUnreadable) as caught:
        verify(project, contract, message, "0x" + "11" * 65)

    assert (caught.value.status, caught.value.code) == (503, "chain_not_configured")
    assert caught.value.detail.startswith("Chain not configured: eip155:8453 has no RPC")
    assert stored() == []
    assert ContractVerificationNonce.objects.get().used_at is None


# --- the record -------------------------------------------------------------------------


def test_proving_again_replaces_the_proof(project, control_chain):
    first = issue(project, control_chain.owned)
    verify(project, control_chain.owned, first, personal_sign(control_chain.deployer, first))
    second = issue(project, control_chain.owned)
    verify(project, control_chain.owned, second, personal_sign(control_chain.owner, second))

    assert [(v[3], v[4], v[5]) for v in stored()] == [
        ("owner", control_chain.owner.address, second)
    ]


def test_the_controller_may_vouch_for_several_organizations(project, control_chain):
    """Verification is not exclusive: each organization the owner signs for is verified;
    a squatter that merely watches the contract stays unverified."""
    partner = ProjectFactory(chain=control_chain.chain, contract_addresses=[control_chain.owned])
    squatter = ProjectFactory(chain=control_chain.chain, contract_addresses=[control_chain.owned])
    for vouched in (project, partner):
        message = issue(vouched, control_chain.owned)
        verify(vouched, control_chain.owned, message, personal_sign(control_chain.owner, message))

    assert [
        [s.control_verified for s in project_contracts_status(project=p)][:1]
        for p in (project, partner, squatter)
    ] == [[True], [True], [False]]


def test_project_contracts_status_lists_every_watched_contract(project, control_chain):
    message = issue(project, control_chain.safe_owned)
    verify(
        project,
        control_chain.safe_owned,
        message,
        personal_sign(control_chain.safe_signer, message),
    )

    assert project_contracts_status(project=project) == [
        ContractStatus(control_chain.chain, control_chain.owned, False),
        ContractStatus(control_chain.chain, control_chain.safe_owned, True, NOW, "eip1271"),
        ContractStatus(control_chain.chain, control_chain.factory_made, False),
        ContractStatus(control_chain.chain, control_chain.ownerless, False),
    ]


def test_purge_forgets_spent_and_expired_messages(project, control_chain):
    spent = issue(project, control_chain.owned)
    verify(project, control_chain.owned, spent, personal_sign(control_chain.owner, spent))
    issue(project, control_chain.owned, now=NOW - dt.timedelta(days=2))  # expired
    live = issue(project, control_chain.owned, now=NOW)

    assert contract_verification_nonces_purge(now=NOW + dt.timedelta(minutes=1)) == 2
    assert list(ContractVerificationNonce.objects.values_list("message", flat=True)) == [live]


# --- Solana: the upgrade authority -------------------------------------------------------


def b58(n: int) -> str:
    return base58.b58encode(bytes([n]) * 32).decode()


PROGRAM, PROGRAM_DATA = b58(7), b58(8)


@pytest.fixture
def authority() -> SigningKey:
    return SigningKey(bytes(range(32)))


@pytest.fixture
def solana_project(solana_rpc: SolanaRpc, authority: SigningKey) -> Project:
    solana_rpc.upgradeable_program(
        program=PROGRAM,
        program_data=PROGRAM_DATA,
        authority=base58.b58encode(bytes(authority.verify_key)).decode(),
    )
    return ProjectFactory(
        chain="solana:mainnet", contract_addresses=[PROGRAM], organization=OrganizationFactory()
    )


def ed25519_sign(key: SigningKey, message: str) -> str:
    return base58.b58encode(key.sign(message.encode()).signature).decode()


def test_the_upgrade_authority_proves_control_of_a_program(solana_project, authority):
    message = issue(solana_project, PROGRAM)
    signature = ed25519_sign(authority, message)

    verify(solana_project, PROGRAM, message, signature)

    assert stored() == [
        (solana_project.id, "solana:mainnet", PROGRAM, "upgrade_authority",
         base58.b58encode(bytes(authority.verify_key)).decode(), message, signature, NOW),
    ]  # fmt: skip


def test_another_key_is_refused_for_a_program(solana_project):
    message = issue(solana_project, PROGRAM)

    code, detail = refused(
        solana_project, PROGRAM, message, ed25519_sign(SigningKey.generate(), message)
    )

    assert code == "wrong_signer"
    assert detail.startswith("The signature is not by the program's upgrade authority (")
    assert stored() == []


def test_an_immutable_program_cannot_be_proven(solana_project, solana_rpc, authority):
    solana_rpc.accounts[PROGRAM_DATA]["data"]["parsed"]["info"]["authority"] = None
    message = issue(solana_project, PROGRAM)

    code, _ = refused(solana_project, PROGRAM, message, ed25519_sign(authority, message))

    assert code == "no_upgrade_authority"
    assert stored() == []


def test_a_wallet_is_not_a_program(solana_rpc, authority):
    wallet = base58.b58encode(bytes(authority.verify_key)).decode()
    solana_rpc.wallet(wallet)
    project = ProjectFactory(chain="solana:mainnet", contract_addresses=[wallet])
    message = issue(project, wallet)

    assert refused(project, wallet, message, ed25519_sign(authority, message))[0] == "not_a_program"


def test_a_failing_solana_rpc_is_unavailable(solana_project, solana_rpc, authority):
    solana_rpc.status = 500
    message = issue(solana_project, PROGRAM)

    with pytest.raises(ChainUnreadable) as caught:
        verify(solana_project, PROGRAM, message, ed25519_sign(authority, message))

    assert (caught.value.status, caught.value.code) == (503, "chain_unavailable")
    assert stored() == []


def test_a_solana_chain_without_rpc_is_unavailable(settings, authority):
    settings.CHAIN_RPC_URLS = {}
    project = ProjectFactory(chain="solana:mainnet", contract_addresses=[PROGRAM])
    message = issue(project, PROGRAM)

    with pytest.raises(ChainUnreadable) as caught:
        verify(project, PROGRAM, message, ed25519_sign(authority, message))

    assert caught.value.code == "chain_not_configured"
    assert ContractVerificationNonce.objects.get().used_at is None


def test_a_daily_task_purges_them(project, control_chain):
    from fabrknt.celery import app as celery_app
    from trace.tasks import purge_contract_verification_nonces

    issue(project, control_chain.owned, now=NOW - dt.timedelta(days=400))

    assert purge_contract_verification_nonces.delay().get() == 1
    entry = celery_app.conf.beat_schedule["trace-purge-contract-verification-nonces"]
    assert entry["task"] == "trace.purge_contract_verification_nonces"
