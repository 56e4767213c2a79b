"""End to end: a signed chain webhook -> daily rollup -> growth certificate -> verified
offline, with nothing but the published public key and the canonical-JSON rule."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json

import pytest
import rfc8785
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from nacl.signing import VerifyKey

from trace import tasks
from trace.models import ContractInteraction, GrowthCertificate
from trace.tests.callers import key_caller
from trace.tests.factories import ProjectFactory, asset_price
from trace.tests.test_webhooks_alchemy import DAPP, DELIVERY, SIGNING_KEY, TREASURY, sign

pytestmark = pytest.mark.django_db


def test_webhook_to_rollup_to_certificate_verified_offline(settings, tmp_path):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = SIGNING_KEY
    today = timezone.now().date()
    asset_price("eip155:1", "native", today, "3000.00")
    asset_price("eip155:1", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", today, "1.00")  # USDC
    project = ProjectFactory(
        chain="eip155:1", contract_addresses=[DAPP], treasury_addresses=[TREASURY]
    )
    delivery = copy.deepcopy(DELIVERY)
    delivery["createdAt"] = timezone.now().isoformat().replace("+00:00", "Z")
    body = json.dumps(delivery).encode()

    webhook = Client().post(
        "/api/v1/webhooks/alchemy",
        data=body,
        content_type="application/json",
        headers={"X-Alchemy-Signature": sign(body)},
    )
    assert webhook.status_code == 200
    assert ContractInteraction.objects.filter(project=project).count() == 2

    tasks.aggregate_metrics.delay(
        project_id=str(project.pk), date_from=str(today), date_to=str(today)
    ).get()

    reader = key_caller(project.organization, "read")
    metrics = reader.get(f"/api/v1/metrics/{project.pk}?from={today}&to={today}").json()
    assert [
        (row["date"], row["dau"], row["transaction_count"], row["transaction_volume_usd"])
        for row in metrics["results"]
    ] == [(str(today), 2, 2, "4793.09")]

    issued = reader.get(f"/api/v1/growth-certificate/{project.pk}?from={today}&to={today}")
    assert issued.status_code == 200
    document = issued.json()
    assert document["algorithm"] == "ed25519"
    assert document["certificate"]["project_id"] == str(project.pk)
    assert document["certificate"]["period"] == {"from": str(today), "to": str(today)}
    assert document["certificate"]["metrics"]["dau"] == 2
    assert document["certificate"]["metrics"]["transaction_volume_usd"] == "4793.09"
    assert GrowthCertificate.objects.filter(project=project).count() == 1

    # A verifier holds only the document and the published key.
    keys = Client().get("/api/v1/certificates/keys").json()["keys"]
    public_key = next(k["public_key"] for k in keys if k["key_id"] == document["key_id"])
    canonical = rfc8785.dumps(document["certificate"])  # any RFC 8785 (JCS) library
    VerifyKey(base64.b64decode(public_key)).verify(
        canonical, base64.b64decode(document["signature"])
    )

    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(document))
    call_command("verify_certificate", str(path), "--public-key", public_key)
    assert (today + dt.timedelta(days=90)).isoformat() in document["certificate"]["valid_until"]


def test_a_stored_certificate_is_looked_up_by_id_exactly_as_issued():
    project = ProjectFactory()
    issued = key_caller(project.organization, "read").get(
        f"/api/v1/growth-certificate/{project.pk}"
    )
    document = issued.json()

    lookup = Client().get(f"/api/v1/certificates/{document['certificate']['certificate_id']}")

    assert lookup.status_code == 200
    assert lookup.json() == document
    missing = Client().get("/api/v1/certificates/2f1c5b8e-0000-4000-8000-000000000000")
    assert missing.status_code == 404
