"""The Fabrknt score: growth from a real TRACE certificate (only control-verified
contracts, only priced assets, the proven-conversion share), vitality from real PULSE
scores with their verified share, verified revenue; missing parts earn nothing and say
why; every part links to its evidence."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.utils import timezone

from fabric.models import Listing
from fabric.services.suite import (
    GROWTH_WEIGHT,
    REVENUE_WEIGHT,
    SELF_REPORTED_CREDIT,
    VITALITY_WEIGHT,
    listing_scores_compute,
    revenue_points,
    suite_summary,
)
from fabric.tests.factories import ListingFactory, RevenueRecordFactory
from pulse.models import ContributionType, IdentityStatus, SBTStatus, Verification
from pulse.services.scores import scores_calculate
from pulse.tests.factories import (
    ContributionFactory,
    ContributorFactory,
    SBTRecordFactory,
    TeamFactory,
)
from trace.models import GrowthCertificate, LinkProof
from trace.services.certificates import certificate_issue
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ContractVerificationFactory,
    ConversionFactory,
    ProjectFactory,
    WalletLinkFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

OWNED = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
WATCHED = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def _yesterday(hour: int = 12) -> dt.datetime:
    day = timezone.now().date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _project(organization, *, verify: bool = True):
    """Two watched contracts, control proven of one; activity on both, an unpriced transfer
    on the owned one, and conversions through a proven and a claimed wallet link."""
    project = ProjectFactory(
        organization=organization, chain="eip155:8453", contract_addresses=[OWNED, WATCHED]
    )
    if verify:
        ContractVerificationFactory(project=project, contract_address=OWNED)
    for n, (contract, value) in enumerate(
        [(OWNED, "100.00"), (OWNED, "40.00"), (WATCHED, "900.00"), (WATCHED, "900.00")]
    ):
        ContractInteractionFactory(
            project=project,
            contract_address=contract,
            wallet_address=f"0x{n + 1:040x}",
            occurred_at=_yesterday(),
            value_usd=Decimal(value),
        )
    # A token the registry cannot price: counted, valued 0.
    ContractInteractionFactory(
        project=project,
        contract_address=OWNED,
        wallet_address=f"0x{7:040x}",
        occurred_at=_yesterday(),
        unpriced_reason="unknown_asset",
    )
    campaign = CampaignFactory(project=project, target_contract=OWNED)
    for value, proof in (("300.00", LinkProof.PROVEN), ("100.00", LinkProof.CLAIMED)):
        link = WalletLinkFactory(
            click=ClickFactory(campaign=campaign, occurred_at=_yesterday(9)),
            proof=proof,
            proven_at=_yesterday(10) if proof == LinkProof.PROVEN else None,
        )
        ConversionFactory(
            click=link.click,
            wallet_address=link.wallet_address,
            contract_address=OWNED,
            value_usd=Decimal(value),
            occurred_at=_yesterday(11),
        )
    return project


def _team(organization):
    """A team with verified work by a linked contributor and self-reported work by an
    asserted one, scored by PULSE."""
    team = TeamFactory(organization=organization)
    linked = ContributorFactory(
        team=team, github_identity=IdentityStatus.LINKED, discord_identity=IdentityStatus.LINKED
    )
    asserted = ContributorFactory(team=team)
    for n in range(6):
        ContributionFactory(
            team=team,
            contributor=linked,
            contribution_type=ContributionType.PULL_REQUEST_MERGED,
            occurred_at=timezone.now() - dt.timedelta(days=n + 1),
        )
        ContributionFactory(
            team=team,
            contributor=asserted,
            verification=Verification.SELF_REPORTED,
            occurred_at=timezone.now() - dt.timedelta(days=n + 1),
        )
    scores_calculate(team=team)
    team.refresh_from_db()
    return team, linked


@pytest.fixture
def listing():
    listing = ListingFactory()
    listing.trace_project = _project(listing.organization)
    team, linked = _team(listing.organization)
    listing.pulse_team = team
    listing.revenue_verified = Decimal("10000.00")
    listing.save()
    SBTRecordFactory(
        team=team,
        contributor=linked,
        status=SBTStatus.MINTED,
        token_address="0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
        token_id="1",
        tx_hash="0x" + "cd" * 32,
        issued_at=timezone.now(),
    )
    SBTRecordFactory(team=team, contributor=linked, milestone="ten-reviews")  # not minted yet
    return listing


def test_growth_comes_from_the_verified_contracts_of_the_certificate(listing):
    certificate = certificate_issue(project_id=listing.trace_project_id)
    verified = certificate.payload["verified_metrics"]

    computed = listing_scores_compute(listing_id=listing.pk)

    growth = computed.score_components["components"]["growth"]
    assert growth["available"] is True
    assert computed.growth_score == Decimal(str(verified["activity_score"]))
    assert growth["value"] == verified["activity_score"]
    # Only the owned contract's two priced transfers: the $1800 on the unverified contract
    # and the unpriced transfer are not in the volume.
    assert growth["figures"]["transaction_volume_usd"] == "140.00"
    assert growth["figures"]["unpriced_transfers"] == 1
    assert growth["figures"]["transaction_count"] == 3
    assert growth["figures"]["verified_transaction_share"] == 0.6
    assert (growth["figures"]["contracts_verified"], growth["figures"]["contracts_total"]) == (1, 2)
    # $300 of $400 of conversion value came through a signed wallet link.
    assert growth["verified_share"] == 0.75
    assert growth["credited"] == pytest.approx(
        verified["activity_score"] * (0.75 + SELF_REPORTED_CREDIT * 0.25), abs=0.01
    )
    assert growth["evidence"]["certificate_id"] == str(certificate.pk)
    assert growth["evidence"]["verification_url"] == f"/verify/{certificate.pk}"
    assert growth["evidence"]["contracts"] == [
        {"chain": "eip155:8453", "address": OWNED, "control_verified": True}
    ]


def test_the_score_combines_the_parts_with_their_weights_and_verified_shares(listing):
    certificate_issue(project_id=listing.trace_project_id)
    team = listing.pulse_team

    computed = listing_scores_compute(listing_id=listing.pk)

    parts = computed.score_components["components"]
    vitality = parts["vitality"]
    assert computed.vitality_score == team.vitality_score
    assert vitality["verified_share"] == float(team.verified_share)
    assert 0 < vitality["verified_share"] < 1  # half the work is self-reported
    assert parts["revenue"]["value"] == 50.0  # $10k a month
    expected = sum(
        weight * part["value"] * (part["verified_share"] + 0.5 * (1 - part["verified_share"]))
        for weight, part in (
            (GROWTH_WEIGHT, parts["growth"]),
            (VITALITY_WEIGHT, vitality),
            (REVENUE_WEIGHT, parts["revenue"]),
        )
    )
    assert float(computed.fabrknt_score) == pytest.approx(expected, abs=0.011)
    assert computed.score_components["coverage"] == 1.0
    stored = Listing.objects.get(pk=listing.pk)
    assert stored.fabrknt_score == computed.fabrknt_score
    assert stored.score_computed_at is not None


def test_vitality_links_the_team_page_and_only_minted_tokens(listing):
    computed = listing_scores_compute(listing_id=listing.pk)

    evidence = computed.score_components["components"]["vitality"]["evidence"]
    assert evidence["pulse_id"] == listing.pulse_team.pulse_id
    assert evidence["team_url"] == f"/pulse/teams/{listing.pulse_team.pulse_id}/"
    assert [token["milestone"] for token in evidence["sbts"]] == ["first-merged-pr"]
    token = evidence["sbts"][0]
    assert token["tx_hash"] == "0x" + "cd" * 32
    assert token["image_url"] == (
        "/pulse/sbt/eip155:31337/0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0/1/image.svg"
    )


def test_a_certificate_without_verified_contracts_gives_no_growth():
    listing = ListingFactory()
    listing.trace_project = _project(listing.organization, verify=False)
    listing.save()
    certificate_issue(project_id=listing.trace_project_id)

    computed = listing_scores_compute(listing_id=listing.pk)

    growth = computed.score_components["components"]["growth"]
    assert (growth["available"], growth["value"], growth["points"]) == (False, None, 0.0)
    assert growth["reason"] == "Control of none of the project's contracts is verified."
    assert computed.growth_score is None
    # Nothing else is linked: no part available, no score (not a zero).
    assert computed.fabrknt_score is None
    assert computed.score_components["coverage"] == 0


def test_missing_parts_earn_nothing_and_say_why_without_renormalizing():
    listing = ListingFactory(revenue_verified=Decimal("1000000.00"))
    listing.trace_project = ProjectFactory(organization=listing.organization)
    listing.pulse_team = TeamFactory(organization=listing.organization)
    listing.save()

    computed = listing_scores_compute(listing_id=listing.pk)

    parts = computed.score_components["components"]
    # The recompute asked TRACE for the certificate: it has no proven contract.
    assert parts["growth"]["reason"] == "Control of none of the project's contracts is verified."
    assert parts["growth"]["evidence"]["certificate_id"]
    assert parts["vitality"]["reason"] == "The PULSE team's scores have not been calculated yet."
    assert not parts["growth"]["available"] and not parts["vitality"]["available"]
    # Only the revenue's weight: a perfect revenue part is 25 points, not 100.
    assert computed.fabrknt_score == Decimal("25.00")
    assert computed.score_components["coverage"] == REVENUE_WEIGHT
    assert (computed.growth_score, computed.vitality_score) == (None, None)


def test_unlinked_listing_has_no_parts():
    computed = listing_scores_compute(listing_id=ListingFactory().pk)

    parts = computed.score_components["components"]
    assert parts["growth"]["reason"] == "No TRACE project is linked to this listing."
    assert parts["vitality"]["reason"] == "No PULSE team is linked to this listing."
    assert parts["revenue"]["reason"] == "No revenue has been verified for this listing."
    assert computed.fabrknt_score is None


def test_growth_reads_the_standard_period_not_a_hand_picked_one(listing):
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    # A certificate of an old period, issued last: not what the score reads.
    picked = certificate_issue(
        project_id=listing.trace_project_id,
        date_from=yesterday - dt.timedelta(days=200),
        date_to=yesterday - dt.timedelta(days=170),
    )

    computed = listing_scores_compute(listing_id=listing.pk)
    again = listing_scores_compute(listing_id=listing.pk)

    growth = computed.score_components["components"]["growth"]
    assert growth["evidence"]["certificate_id"] != str(picked.pk)
    assert growth["figures"]["period"] == {
        "from": (yesterday - dt.timedelta(days=29)).isoformat(),
        "to": yesterday.isoformat(),
    }
    # Same data, same certificate: a recompute signs nothing new.
    assert again.score_components["components"]["growth"]["evidence"] == growth["evidence"]
    assert GrowthCertificate.objects.filter(project=listing.trace_project).count() == 2


def test_revenue_links_its_records(listing):
    old = RevenueRecordFactory(
        listing=listing, period_end=timezone.now() - dt.timedelta(days=1, hours=1)
    )
    onchain = RevenueRecordFactory(listing=listing, revenue_usd=Decimal("7000.00"))
    stripe = RevenueRecordFactory(
        listing=listing, source="stripe", revenue_usd=Decimal("3000.00"), fees_usd=Decimal(3000)
    )
    RevenueRecordFactory(listing=listing, window_days=90)

    computed = listing_scores_compute(listing_id=listing.pk)

    revenue = computed.score_components["components"]["revenue"]
    ids = {record["id"] for record in revenue["evidence"]["revenue_records"]}
    assert ids == {str(onchain.pk), str(stripe.pk)}
    assert str(old.pk) not in ids
    assert revenue["figures"]["revenue_verified_30d_usd"] == "10000.00"
    assert revenue["figures"]["fees_30d_usd"] == "15000.00"
    assert revenue["verified_share"] == 1.0


@pytest.mark.parametrize(
    ("revenue", "points"),
    [("0", 0.0), ("100", 0.0), ("1000", 25.0), ("31622.78", 62.5), ("1000000", 100.0)],
)
def test_revenue_points_grow_by_tenfolds(revenue, points):
    assert revenue_points(Decimal(revenue)) == pytest.approx(points, abs=1e-4)
    assert revenue_points(Decimal("5000000")) == 100.0
    assert math.isclose(revenue_points(Decimal("10000")), 50.0)


def test_summary_reads_the_stored_scores_with_absolute_links(listing):
    certificate = certificate_issue(project_id=listing.trace_project_id)
    computed = listing_scores_compute(listing_id=listing.pk)

    summary = suite_summary(listing=computed, link=lambda path: f"https://suite.example{path}")

    assert summary["fabrknt_score"] == float(computed.fabrknt_score)
    assert summary["trace"]["status"] == "partly_verified"
    assert summary["revenue"]["status"] == "verified"
    assert summary["trace"]["evidence"]["verification_url"] == (
        f"https://suite.example/verify/{certificate.pk}"
    )
    assert summary["pulse"]["evidence"]["sbts"][0]["image_url"].startswith(
        "https://suite.example/pulse/sbt/"
    )


def test_summary_before_any_computation_says_not_computed():
    summary = suite_summary(listing=ListingFactory())

    assert summary["fabrknt_score"] is None
    assert summary["trace"]["status"] == "not_computed"
    assert summary["computed_at"] is None


def test_unknown_listing_is_none():
    assert listing_scores_compute(listing_id="not-a-uuid") is None
    assert listing_scores_compute(listing_id="6f1c9a43-8a8e-4f3e-9b38-3e0d6f1c9a43") is None
