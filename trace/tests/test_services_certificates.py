from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
import rfc8785
from django.conf import settings
from django.core.management import CommandError, call_command
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from trace.models import ActivityMetric, GrowthCertificate, LinkProof
from trace.services.certificates import (
    CertificatePeriodError,
    canonical_json,
    certificate_check,
    certificate_document,
    certificate_issue,
    certificate_keys_list,
    certificate_verify,
)
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ContractVerificationFactory,
    ConversionFactory,
    ProjectFactory,
    WalletLinkFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 4, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
LAST = dt.date(2025, 3, 31)


def when(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def project():
    project = ProjectFactory(name="Swäpper ✓", chain="eip155:8453")
    for n, value in enumerate(["100.00", "50.25", "0.50"]):
        ContractInteractionFactory(
            project=project,
            wallet_address=f"0x{n + 1:040x}",
            occurred_at=when(LAST - dt.timedelta(days=n)),
            value_usd=Decimal(value),
        )
    # Before the period: counts for MAU, not for the period's volume.
    ContractInteractionFactory(
        project=project,
        wallet_address=f"0x{9:040x}",
        occurred_at=when(LAST - dt.timedelta(days=10)),
        value_usd=Decimal("1000.00"),
    )
    return project


def public_key() -> bytes:
    return bytes(SigningKey(base64.b64decode(settings.CERTIFICATE_SIGNING_KEY)).verify_key)


def issue(project, **kwargs) -> GrowthCertificate:
    return certificate_issue(
        project_id=project.id,
        date_from=LAST - dt.timedelta(days=2),
        date_to=LAST,
        now=NOW,
        **kwargs,
    )


def test_issue_snapshots_signs_and_stores(project):
    certificate = issue(project)

    document = certificate_document(certificate)
    body = document["certificate"]
    assert body == {
        "certificate_id": str(certificate.id),
        "version": 2,
        "issuer": "Fabrknt Suite",
        "project_id": str(project.id),
        "project_name": "Swäpper ✓",
        "chain": "eip155:8453",
        "organization": {"id": str(project.organization_id), "name": project.organization.name},
        "contracts": [
            {
                "chain": "eip155:8453",
                "address": project.contract_addresses[0],
                "control_verified": False,
            }
        ],
        "period": {"from": "2025-03-29", "to": "2025-03-31"},
        "metrics": {
            "dau": 1,
            "wau": 3,
            "mau": 4,  # the wallet from ten days earlier
            "transaction_count": 3,
            "transaction_volume_usd": "150.75",
            "unpriced_transfers": 0,
            "volume_flagged_days": 0,
            # stickiness 1/4 → 20, growth from nothing → 30, nobody to retain → 0
            "activity_score": 50,  # whole numbers are written as integers
            "bot_share": 0,
            "proven_conversion_share": None,  # no conversion in the period
        },
        # No contract is control-verified: no figures, rather than zeros.
        "verified_metrics": None,
        "issued_at": "2025-04-01T09:30:15Z",
        "valid_until": "2025-06-30T09:30:15Z",
    }
    assert document["algorithm"] == "ed25519"
    assert document["key_id"] == hashlib.sha256(public_key()).hexdigest()[:16]
    # The signature is plain Ed25519 over the RFC 8785 JSON, checkable with PyNaCl alone.
    signed = rfc8785.dumps(body)
    assert "Swäpper ✓".encode() in signed
    VerifyKey(public_key()).verify(signed, base64.b64decode(document["signature"]))
    stored = GrowthCertificate.objects.get()
    assert stored.canonical_json.encode() == signed
    assert (stored.period_from, stored.period_to) == (dt.date(2025, 3, 29), LAST)
    assert stored.valid_until - stored.issued_at == dt.timedelta(days=90)


def test_unpriced_transfers_and_flagged_days_are_summed_over_the_period(project, settings):
    settings.METRICS_DAILY_VOLUME_CAP_USD = 60
    for day in (LAST, LAST - dt.timedelta(days=1), LAST - dt.timedelta(days=9)):
        ContractInteractionFactory(
            project=project, occurred_at=when(day, 15), unpriced_reason="unknown_asset"
        )

    metrics = issue(project).payload["metrics"]

    # Two unpriced transfers in the period (the third is before it); one day above $60.
    assert (metrics["transaction_count"], metrics["transaction_volume_usd"]) == (5, "150.75")
    assert (metrics["unpriced_transfers"], metrics["volume_flagged_days"]) == (2, 1)


def test_tampering_breaks_the_signature(project):
    document = certificate_document(issue(project))
    document["certificate"]["metrics"]["dau"] = 1000
    with pytest.raises(BadSignatureError):
        VerifyKey(public_key()).verify(
            canonical_json(document["certificate"]), base64.b64decode(document["signature"])
        )
    check = certificate_check(document, now=NOW)
    assert (check.valid, check.reason) == (False, "the signature does not match the certificate")


def test_verify_checks_key_algorithm_and_validity(project):
    document = certificate_document(issue(project))
    assert certificate_check(document, now=NOW).valid is True
    assert certificate_check(document, now=NOW + dt.timedelta(days=89)).valid is True
    expired = certificate_check(document, now=NOW + dt.timedelta(days=91))
    assert (expired.valid, expired.reason) == (False, "expired on 2025-06-30T09:30:15Z")
    early = certificate_check(document, now=NOW - dt.timedelta(minutes=1))
    assert early.valid is False
    assert certificate_check({**document, "key_id": "0" * 16}, now=NOW).reason == (
        "unknown key id '0000000000000000'"
    )
    assert certificate_check({**document, "algorithm": "rsa"}, now=NOW).valid is False
    assert certificate_check({**document, "signature": "%%%"}, now=NOW).valid is False
    assert certificate_check({"certificate": "x"}, now=NOW).valid is False
    other_key = bytes(SigningKey.generate().verify_key)
    assert certificate_check(document, public_keys={document["key_id"]: other_key}).valid is False


def test_certificate_verify_uses_the_clock(project):
    document = certificate_document(certificate_issue(project_id=project.id))
    assert certificate_verify(document) is True


def test_retired_keys_keep_verifying_after_rotation(project, settings):
    document = certificate_document(issue(project))
    old_public = base64.b64encode(public_key()).decode()
    settings.CERTIFICATE_SIGNING_KEY = base64.b64encode(bytes(SigningKey.generate())).decode()
    assert certificate_check(document, now=NOW).valid is False  # unknown key now
    settings.CERTIFICATE_PUBLIC_KEYS = [old_public]
    assert certificate_check(document, now=NOW).valid is True
    assert [key["public_key"] for key in certificate_keys_list()][1] == old_public


def test_default_period_is_the_last_30_full_days(project):
    certificate = certificate_issue(project_id=project.id, now=NOW)
    assert (certificate.period_from, certificate.period_to) == (dt.date(2025, 3, 2), LAST)
    assert certificate.payload["metrics"]["transaction_count"] == 4


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (LAST, LAST - dt.timedelta(days=1)),  # reversed
        (LAST, dt.date(2025, 4, 2)),  # the future
        (dt.date(2024, 3, 1), LAST),  # longer than 366 days
    ],
)
def test_bad_periods_are_refused_and_store_nothing(project, date_from, date_to):
    with pytest.raises(CertificatePeriodError):
        certificate_issue(project_id=project.id, date_from=date_from, date_to=date_to, now=NOW)
    assert GrowthCertificate.objects.count() == 0


def test_certificate_reports_the_share_of_conversion_value_from_proven_links(project):
    campaign = CampaignFactory(project=project)
    in_period = when(LAST - dt.timedelta(days=1))
    for value, proof, at in (
        ("300.00", LinkProof.PROVEN, in_period),
        ("100.00", LinkProof.CLAIMED, in_period),
        ("600.00", LinkProof.CLAIMED, when(LAST + dt.timedelta(days=1))),  # after the period
    ):
        link = WalletLinkFactory(
            click=ClickFactory(campaign=campaign),
            proof=proof,
            proven_at=at if proof == LinkProof.PROVEN else None,
        )
        ConversionFactory(
            click=link.click,
            wallet_address=link.wallet_address,
            value_usd=Decimal(value),
            occurred_at=at,
        )
    metrics = certificate_document(issue(project))["certificate"]["metrics"]
    assert metrics["proven_conversion_share"] == 0.75


# --- organization, contracts and verified metrics ---------------------------------------

OWNED = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
WATCHED = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
TREASURY = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"


def test_metrics_of_verified_contracts_are_certified_apart():
    project = ProjectFactory(
        organization__name="Acme Labs",
        chain="eip155:8453",
        contract_addresses=[OWNED, WATCHED],
        treasury_addresses=[TREASURY],
    )
    ContractVerificationFactory(project=project, contract_address=OWNED)
    for wallet, contract, day, value in [
        (1, OWNED.lower(), LAST, "100.00"),  # as a provider spelled it
        (2, WATCHED, LAST, "50.00"),
        (3, WATCHED, LAST - dt.timedelta(days=1), "20.00"),
        (4, TREASURY, LAST, "10.00"),
    ]:
        ContractInteractionFactory(
            project=project,
            wallet_address=f"0x{wallet:040x}",
            contract_address=contract,
            occurred_at=when(day),
            value_usd=Decimal(value),
        )

    body = issue(project).payload

    assert body["organization"] == {"id": str(project.organization_id), "name": "Acme Labs"}
    assert body["contracts"] == [
        {"chain": "eip155:8453", "address": OWNED, "control_verified": True},
        {"chain": "eip155:8453", "address": WATCHED, "control_verified": False},
    ]
    summary = ("dau", "wau", "mau", "transaction_count", "transaction_volume_usd")
    assert [body["metrics"][k] for k in summary] == [3, 4, 4, 4, "180.00"]
    assert [body["verified_metrics"][k] for k in summary] == [1, 1, 1, 1, "100.00"]
    assert set(body["verified_metrics"]) == set(body["metrics"])
    # The stored daily metrics are the project's, never the restricted ones.
    assert ActivityMetric.objects.get(project=project, date=LAST).dau == 3


def test_a_squatter_watching_a_verified_contract_certifies_no_verified_metrics():
    owner = ProjectFactory(chain="eip155:8453", contract_addresses=[OWNED])
    squatter = ProjectFactory(chain="eip155:8453", contract_addresses=[OWNED])
    ContractVerificationFactory(project=owner, contract_address=OWNED)
    for project in (owner, squatter):
        ContractInteractionFactory(
            project=project, contract_address=OWNED, occurred_at=when(LAST), value_usd=Decimal(5)
        )

    owner_body, squatter_body = issue(owner).payload, issue(squatter).payload

    assert owner_body["verified_metrics"]["transaction_volume_usd"] == "5.00"
    assert squatter_body["contracts"] == [
        {"chain": "eip155:8453", "address": OWNED, "control_verified": False}
    ]
    assert squatter_body["verified_metrics"] is None
    assert squatter_body["metrics"] == owner_body["metrics"]


# --- the same data is certified once ----------------------------------------------------


def test_the_same_data_later_returns_the_stored_certificate(project):
    first = issue(project)

    again = certificate_issue(
        project_id=project.id,
        date_from=LAST - dt.timedelta(days=2),
        date_to=LAST,
        now=NOW + dt.timedelta(hours=5),
    )

    assert again == first
    assert again.issued_at == NOW.replace(microsecond=0)
    subject = {
        k: v
        for k, v in first.payload.items()
        if k not in ("certificate_id", "issued_at", "valid_until")
    }
    assert first.content_hash == hashlib.sha256(rfc8785.dumps(subject)).hexdigest()
    assert GrowthCertificate.objects.count() == 1


def test_an_expired_certificate_is_not_returned_again(project):
    first = issue(project)

    later = certificate_issue(
        project_id=project.id,
        date_from=LAST - dt.timedelta(days=2),
        date_to=LAST,
        now=NOW + dt.timedelta(days=91),
    )

    assert later.id != first.id
    assert later.content_hash == first.content_hash
    assert later.issued_at == NOW.replace(microsecond=0) + dt.timedelta(days=91)


def test_a_new_signing_key_signs_a_new_certificate(project, settings):
    first = issue(project)
    settings.CERTIFICATE_SIGNING_KEY = base64.b64encode(bytes(SigningKey.generate())).decode()

    second = issue(project)

    assert second.id != first.id
    assert second.key_id != first.key_id
    assert issue(project) == second


def test_certificates_stored_before_the_hash_are_not_returned(project):
    first = issue(project)
    GrowthCertificate.objects.filter(pk=first.pk).update(content_hash="")

    assert issue(project).id != first.id
    assert GrowthCertificate.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_sign_one_certificate(monkeypatch):
    import threading

    from django.db import connection

    from trace.services import certificates

    project = ProjectFactory(chain="eip155:8453")
    ContractInteractionFactory(project=project, occurred_at=when(LAST), value_usd=Decimal(1))
    attempts = 4
    barrier = threading.Barrier(attempts)
    content_hash = certificates.certificate_content_hash

    def hashed_by_all(subject: dict) -> str:
        barrier.wait()  # every request has computed the data before any looks for a stored one
        return content_hash(subject)

    monkeypatch.setattr(certificates, "certificate_content_hash", hashed_by_all)
    issued: list[object] = []

    def request() -> None:
        try:
            issued.append(issue(project).id)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(issued) == attempts
    assert len(set(issued)) == 1
    assert GrowthCertificate.objects.count() == 1


def _leaf_paths(value: object, path: tuple = ()) -> list[tuple]:
    """The path of every value in a JSON document that is not itself an object or array."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _leaf_paths(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _leaf_paths(item, (*path, index))]
    return [path]


def _changed(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "0"
    return "0"  # null


def test_a_certificate_changed_in_any_field_is_refused(project, tmp_path):
    document = certificate_document(issue(project))
    stored = list(GrowthCertificate.objects.values_list("id", "canonical_json", "signature"))
    paths = _leaf_paths(document["certificate"])
    assert len(paths) == 26  # every field of the certificate issued above

    tampered_documents = []
    for path in paths:
        tampered = copy.deepcopy(document)
        parent = tampered["certificate"]
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = _changed(parent[path[-1]])
        tampered_documents.append(tampered)
    for key in document["certificate"]:  # a field left out
        tampered = copy.deepcopy(document)
        del tampered["certificate"][key]
        tampered_documents.append(tampered)
    added = copy.deepcopy(document)
    added["certificate"]["metrics"]["paid_users"] = 1000
    tampered_documents.append(added)

    for tampered in tampered_documents:
        check = certificate_check(tampered, now=NOW)
        assert (check.valid, check.reason) == (
            False,
            "the signature does not match the certificate",
        ), tampered["certificate"]

    # The envelope: another signature (one byte changed), one by another key under our
    # key id, another key id, another algorithm.
    signature = bytearray(base64.b64decode(document["signature"]))
    signature[0] ^= 1
    forged = SigningKey.generate().sign(canonical_json(document["certificate"])).signature
    envelopes = {
        "signature": base64.b64encode(bytes(signature)).decode(),
        "by another key": base64.b64encode(forged).decode(),
    }
    for name, value in envelopes.items():
        check = certificate_check({**document, "signature": value}, now=NOW)
        assert (check.valid, check.reason) == (
            False,
            "the signature does not match the certificate",
        ), name
    assert certificate_check({**document, "key_id": "f" * 16}, now=NOW).reason == (
        f"unknown key id '{'f' * 16}'"
    )
    assert certificate_check({**document, "algorithm": "ed448"}, now=NOW).reason == (
        "unsupported algorithm 'ed448'"
    )
    # The offline command says so too; and checking stores nothing.
    saved = tmp_path / "tampered.json"
    saved.write_text(json.dumps(tampered_documents[0]))
    with pytest.raises(CommandError, match="INVALID: the signature does not match"):
        call_command("verify_certificate", str(saved))
    assert certificate_check(document, now=NOW).valid is True
    assert list(GrowthCertificate.objects.values_list("id", "canonical_json", "signature")) == (
        stored
    )
