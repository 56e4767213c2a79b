"""Proving control of a contract: an organization signs, with the key that controls one
of its project's contracts, a message naming the organization, the project, the chain and
the contract; the project's figures for that contract are then `control_verified`.

Watching a contract needs no proof (anyone may follow public chain data, and every watching
project stores its own rows of it), so a tenant cannot take another's data by registering
its contract first; but only the organizations the contract's controller vouched for can
show their numbers as verified.

Who may sign:
- EVM: the address the contract's `owner()` returns, or its deployer (the sender of the
  transaction that created it; see `fabrknt.chain.evm.contract_deployer`: a contract made
  by a factory has no deployer we can find, so only `owner()` proves control of it), by
  EIP-191 personal_sign; an owner that is itself a contract (a Safe) by EIP-1271
  `isValidSignature`. Every check reads the chain, so the chain's RPC must be configured.
- Solana: the program's upgrade authority, Ed25519 over the message (base58 signature).

The message is single use, like a sign-in nonce: the first attempt with it spends it,
whatever its outcome; a refusal stores nothing else. A message issued for another
project or contract is refused without spending it. Messages expire after
CONTRACT_VERIFICATION_TTL (a day: a multisig's owners need time).

Verification is a proof at a point in time (`verified_at`, `signer`): a later change of
owner does not undo it; verifying again replaces it.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as EthValidationError
from web3 import Web3
from web3.exceptions import Web3Exception

from accounts.services.siws import siws_signature_valid
from fabrknt.api.errors import InvalidInput, NotFound
from fabrknt.chain.evm import (
    ChainNotConfigured,
    contract_deployer,
    contract_owner,
    eip1271_signature_valid,
    has_code,
)
from fabrknt.chain.solana import SolanaRpcError, program_upgrade_authority, solana_rpc_url
from trace.models import (
    ContractVerification,
    ContractVerificationNonce,
    ControlMethod,
    Project,
)
from trace.services.chain_access import ChainUnreadable, chain_failed, evm_client_for_request
from trace.services.projects import EIP155, SOLANA, address_normalize, chain_parse

_NONCE_ALPHABET = string.ascii_letters + string.digits
_NONCE_LENGTH = 24
_NONCE_LINE = re.compile(r"^Nonce: ([A-Za-z0-9]{8,64})$", re.MULTILINE)
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_EVM_SIGNATURE_BYTES = 65
# An EIP-1271 signature can be longer than one ECDSA signature (a Safe's are one per
# owner); the request body limit bounds it anyway.
_MAX_SIGNATURE_BYTES = 4096


class ContractControlRefused(InvalidInput):
    """The proof is refused; `code` says why (stable, for clients to branch on)."""

    code = "control_refused"
    default_detail = "Control of the contract is not proven."


@dataclass(frozen=True)
class ContractStatus:
    """A watched contract and whether control of it is proven for the project."""

    chain: str
    address: str
    control_verified: bool
    verified_at: datetime | None = None
    method: str | None = None

    @property
    def method_label(self) -> str:
        return ControlMethod(self.method).label if self.method else ""


def project_contracts_status(*, project: Project) -> list[ContractStatus]:
    """Every contract the project watches, in its order, with its verification; reads
    `project.contract_verifications.all()`, so a prefetch serves a list in one query."""
    proofs = {
        (proof.chain, proof.contract_address): proof
        for proof in project.contract_verifications.all()
    }
    statuses = []
    for address in project.contract_addresses:
        proof = proofs.get((project.chain, address))
        statuses.append(
            ContractStatus(
                chain=project.chain,
                address=address,
                control_verified=proof is not None,
                verified_at=proof.verified_at if proof else None,
                method=proof.method if proof else None,
            )
        )
    return statuses


def project_verified_contracts(*, project: Project) -> list[str]:
    return [s.address for s in project_contracts_status(project=project) if s.control_verified]


def watched_contract(*, project: Project, address: str) -> str:
    """The address as the project stores it; 400 if it does not parse, 404 if the project
    does not watch it."""
    namespace = chain_parse(chain=project.chain).namespace
    try:
        normalized = address_normalize(address=address, namespace=namespace)
    except ValidationError as error:
        raise InvalidInput(fields={"address": error.messages}) from None
    if normalized not in project.contract_addresses:
        raise NotFound("The project does not watch this contract.")
    return normalized


# --- the message ------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """A name as one line of the message: control characters and line breaks are spaces."""
    cleaned = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return " ".join(cleaned.split())


def _timestamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _message_text(
    *, project: Project, address: str, domain: str, nonce: str, issued_at: datetime,
    expires_at: datetime,
) -> str:  # fmt: skip
    organization = project.organization
    return (
        f"{domain} asks you to prove that you control a contract, for Fabrknt TRACE.\n"
        "\n"
        "Sign with the key of the contract's owner or deployer (EVM) or the program's "
        "upgrade authority (Solana). Signing this message vouches that the organization "
        "below speaks for the contract. It sends no transaction and costs no gas.\n"
        "\n"
        f"Organization: {_one_line(organization.name)} ({organization.pk})\n"
        f"Project: {_one_line(project.name)} ({project.pk})\n"
        f"Chain: {project.chain}\n"
        f"Contract: {address}\n"
        f"Domain: {domain}\n"
        f"Nonce: {nonce}\n"
        f"Issued At: {_timestamp(issued_at)}\n"
        f"Expiration Time: {_timestamp(expires_at)}"
    )


def contract_verification_message_issue(
    *, project: Project, address: str, domain: str, now: datetime | None = None
) -> ContractVerificationNonce:
    """A new single-use message for proving control of one of the project's contracts."""
    contract = watched_contract(project=project, address=address)
    now = now or timezone.now()
    expires_at = now + settings.CONTRACT_VERIFICATION_TTL
    nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(_NONCE_LENGTH))
    message = _message_text(
        project=project,
        address=contract,
        domain=_one_line(domain),
        nonce=nonce,
        issued_at=now,
        expires_at=expires_at,
    )
    return ContractVerificationNonce.objects.create(
        project=project,
        chain=project.chain,
        contract_address=contract,
        nonce=nonce,
        message=message,
        created_at=now,
        expires_at=expires_at,
    )


def contract_verification_nonces_purge(*, now: datetime | None = None) -> int:
    """Delete messages that can no longer be used (spent or expired). Returns how many."""
    now = now or timezone.now()
    deleted, _ = ContractVerificationNonce.objects.filter(
        Q(used_at__isnull=False) | Q(expires_at__lte=now)
    ).delete()
    return deleted


def _nonce_spend(*, project: Project, contract: str, message: str, now: datetime) -> None:
    """Spend the message's nonce with one conditional UPDATE (of two concurrent attempts,
    one gets the row), or refuse saying why."""
    match = _NONCE_LINE.search(message)
    if match is None:
        raise ContractControlRefused(
            "Not a message from verify-message (no Nonce line).", code="malformed_message"
        )
    issued = ContractVerificationNonce.objects.filter(
        nonce=match[1], project=project, chain=project.chain, contract_address=contract
    )
    if issued.filter(used_at__isnull=True, expires_at__gt=now).update(used_at=now):
        if not issued.filter(message=message).exists():
            raise ContractControlRefused(
                "The message is not the text verify-message issued.", code="message_mismatch"
            )
        return
    found = issued.first()
    if found is None:
        raise ContractControlRefused(
            "This message was not issued for this project and contract: get one from "
            "verify-message.",
            code="foreign_message",
        )
    if found.used_at is not None:
        raise ContractControlRefused("This message was already used.", code="nonce_used")
    raise ContractControlRefused("This message has expired.", code="nonce_expired")


# --- the proof --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Proof:
    method: str
    signer: str


def _signature_bytes(signature: str) -> bytes:
    if not isinstance(signature, str) or not _HEX.fullmatch(signature):
        raise ContractControlRefused(
            "The signature must be 0x-prefixed hex.", code="malformed_signature"
        )
    raw = bytes.fromhex(signature[2:])
    if not raw or len(raw) > _MAX_SIGNATURE_BYTES:
        raise ContractControlRefused(
            "The signature is empty or too long.", code="malformed_signature"
        )
    return raw


def _eip191_signer(message: str, signature: bytes) -> str | None:
    if len(signature) != _EVM_SIGNATURE_BYTES:
        return None
    try:
        # recover_message is a combomethod, which its types leave as Any.
        signer: str = Account.recover_message(encode_defunct(text=message), signature=signature)
    except (BadSignature, EthValidationError, ValueError):
        return None
    return signer


def _evm_proof(*, client: Web3, contract: str, message: str, signature: str) -> _Proof:
    raw = _signature_bytes(signature)
    try:
        owner = contract_owner(client, contract)
        signer = _eip191_signer(message, raw)
        if signer is not None and signer == owner:
            return _Proof(ControlMethod.OWNER, signer)
        deployer = contract_deployer(client, contract) if signer is not None else None
        if signer is not None and signer == deployer:
            return _Proof(ControlMethod.DEPLOYER, signer)
        if (
            owner is not None
            and has_code(client, owner)
            and eip1271_signature_valid(
                client, owner, message_hash=defunct_hash_message(text=message), signature=raw
            )
        ):
            return _Proof(ControlMethod.EIP1271, owner)
    except (Web3Exception, OSError) as error:
        raise chain_failed(error) from None
    raise ContractControlRefused(
        f"The signature is not by the contract's owner() ({owner or 'none'}) nor by its "
        "deployer, and no contract owner accepts it (EIP-1271).",
        code="wrong_signer",
    )


def _solana_proof(*, chain: str, program: str, message: str, signature: str) -> _Proof:
    try:
        found = program_upgrade_authority(chain=chain, program=program)
    except SolanaRpcError as error:
        raise ChainUnreadable(f"The chain's RPC failed: {error}") from None
    if found is None:
        raise ContractControlRefused("The address is not a program.", code="not_a_program")
    if found.authority is None:
        raise ContractControlRefused(
            "Nobody can upgrade this program (immutable, or not an upgradeable program), so "
            "no upgrade authority can prove control of it.",
            code="no_upgrade_authority",
        )
    if not siws_signature_valid(message=message, address=found.authority, signature=signature):
        raise ContractControlRefused(
            f"The signature is not by the program's upgrade authority ({found.authority}).",
            code="wrong_signer",
        )
    return _Proof(ControlMethod.UPGRADE_AUTHORITY, found.authority)


def contract_control_verify(
    *, project: Project, address: str, message: str, signature: str, now: datetime | None = None
) -> ContractVerification:
    """Check a signed verify-message text and record the proof; ContractControlRefused
    (400) or ChainUnreadable (503) otherwise, storing nothing but the spent nonce."""
    contract = watched_contract(project=project, address=address)
    namespace = chain_parse(chain=project.chain).namespace
    # The chain is checked before the nonce is spent: with nothing to check against, the
    # message stays usable until the operator configures the chain.
    client = (
        evm_client_for_request(
            chain=project.chain, purpose="control of its contracts cannot be checked"
        )
        if namespace == EIP155
        else None
    )
    if namespace == SOLANA:
        try:
            solana_rpc_url(project.chain)
        except ChainNotConfigured:
            raise ChainUnreadable(
                f"Chain not configured: {project.chain} has no RPC endpoint here.",
                code="chain_not_configured",
            ) from None
    now = now or timezone.now()
    _nonce_spend(project=project, contract=contract, message=message, now=now)
    if client is not None:
        proof = _evm_proof(client=client, contract=contract, message=message, signature=signature)
    else:
        proof = _solana_proof(
            chain=project.chain, program=contract, message=message, signature=signature
        )
    with transaction.atomic():
        verification, _ = ContractVerification.objects.update_or_create(
            project=project,
            chain=project.chain,
            contract_address=contract,
            defaults={
                "method": proof.method,
                "signer": proof.signer,
                "message": message,
                "signature": signature,
                "verified_at": now,
            },
        )
    return verification
