"""`manage.py seed_demo`'s FABRIC part: listings tied to the demo TRACE project and PULSE
teams, published public / nda / private and a draft, with assets, demo revenue records and
scores computed by the suite service; a second run creates nothing."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from eth_account import Account
from eth_account.messages import encode_defunct

from fabric.models import Listing, ListingAsset, ListingEvent, RevenueRecord
from fabric.services.demo import LISTINGS
from trace.models import ContractVerification, GrowthCertificate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
MODELS = [
    Listing,
    ListingAsset,
    ListingEvent,
    RevenueRecord,
    ContractVerification,
    GrowthCertificate,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _state() -> list[tuple]:
    return list(
        Listing.objects.order_by("title").values_list(
            "title", "status", "visibility", "fabrknt_score", "revenue_verified"
        )
    )


def test_seed_demo_lists_the_demo_projects_and_a_second_run_creates_nothing(settings):
    settings.SBT_CHAIN = ""  # no chain: no token minted
    first = StringIO()
    call_command("seed_demo", stdout=first)

    listings = {listing.title: listing for listing in Listing.objects.all()}
    assert set(listings) == {spec.title for spec in LISTINGS}
    assert f"{len(LISTINGS)} FABRIC listings" in first.getvalue()
    basedrop, solstice = listings["Basedrop DEX"], listings["Solstice Lend"]
    nightly, kit = listings["Nightly DAO console"], listings["Basedrop Frames kit"]
    assert [(x.status, x.visibility) for x in (basedrop, solstice, nightly, kit)] == [
        ("published", "public"),
        ("published", "nda"),
        ("published", "private"),
        ("draft", "public"),
    ]
    assert basedrop.trace_project.name == "Basedrop DEX"
    assert basedrop.pulse_team.team_name == "Basedrop core"
    assert nightly.trace_project is None
    # Basedrop's contracts are proven: its growth counts, linked to its certificate.
    growth = basedrop.score_components["components"]["growth"]
    assert growth["available"] is True
    certificate = GrowthCertificate.objects.get(pk=growth["evidence"]["certificate_id"])
    assert certificate.project_id == basedrop.trace_project_id
    assert growth["evidence"]["verification_url"] == f"/verify/{certificate.pk}"
    # The recorded proofs are real signatures by the demo deployer over the verify message.
    proofs = ContractVerification.objects.filter(project=basedrop.trace_project)
    assert proofs.count() == 2
    for proof in proofs:
        signer = Account.recover_message(
            encode_defunct(text=proof.message), signature=proof.signature
        )
        assert signer == proof.signer
    # Solstice's program is not: its growth is not available, never a zero.
    solstice_growth = solstice.score_components["components"]["growth"]
    assert solstice_growth["available"] is False
    assert solstice_growth["reason"] == "Control of none of the project's contracts is verified."
    for listing in (basedrop, solstice, nightly):
        assert 0 < listing.fabrknt_score <= 100
        assert listing.score_components["components"]["vitality"]["available"] is True
        records = listing.revenue_records.filter(window_days=30)
        assert listing.revenue_verified == sum(r.revenue_usd for r in records)
        assert all(record.evidence["demo"] is True for record in records)
    assert kit.revenue_verified is None
    assert kit.fabrknt_score == Decimal(
        str(kit.score_components["components"]["growth"]["points"])
    ).quantize(Decimal("0.01"))
    transactions = basedrop.revenue_records.get(window_days=30).evidence["transactions"]
    assert len(transactions) == 12
    assert all(len(tx["tx_hash"]) == 66 and tx["tx_hash"].startswith("0x") for tx in transactions)
    stripe = nightly.revenue_records.get(window_days=30)
    assert stripe.source == "stripe" and stripe.evidence["charges"][0]["id"].startswith("ch_3")
    assert ListingAsset.objects.filter(listing=basedrop, asset_type="contract").count() == 2
    counts, state = _counts(), _state()

    second = StringIO()
    call_command("seed_demo", stdout=second)

    assert _counts() == counts
    assert _state() == state
    assert "0 FABRIC listings, 0 listing assets, 0 demo revenue records" in second.getvalue()
    assert "nothing new was created" in second.getvalue()
