"""`POST /api/v1/mint-sbt` and the public token metadata and badge, against a real EVM."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from pulse.models import ContributionType, SBTRecord, SBTStatus
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory
from pulse.tests.sbt_chain import (  # noqa: F401  (fixtures)
    sbt_chain_fixture,
    sbt_chain_module_fixture,
)
from trace.tests.callers import key_caller, member_caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def contributor(sbt_chain):
    team = TeamFactory(team_name='Core <devs> & "friends"')
    contributor = ContributorFactory(team=team)
    ContributionFactory(
        team=team,
        contributor=contributor,
        contribution_type=ContributionType.PULL_REQUEST_MERGED,
    )
    return contributor


def _ask(caller, contributor, **overrides):
    body = {
        "pulse_id": contributor.team.pulse_id,
        "wallet_address": contributor.wallet_address,
        "milestone": "first-merged-pr",
        **overrides,
    }
    return caller.post("/api/v1/mint-sbt", body)


def test_mint_then_repeat(sbt_chain, contributor, django_capture_on_commit_callbacks):
    sbt = sbt_chain.deploy()
    caller = member_caller(contributor.team.organization)
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(caller, contributor)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["pulse_id"] == contributor.team.pulse_id
    assert body["milestone"] == "first-merged-pr"
    assert body["wallet_address"] == contributor.wallet_address
    assert body["status"] == "claimed"  # the answer left before the mint ran
    record = SBTRecord.objects.get()
    assert record.status == SBTStatus.MINTED
    assert sbt.functions.ownerOf(int(record.token_id)).call() == contributor.wallet_address

    repeat = _ask(caller, contributor, wallet_address=contributor.wallet_address.lower())
    assert repeat.status_code == 200
    again = repeat.json()
    assert again["id"] == str(record.pk) and again["status"] == "minted"
    assert again["chain"] == sbt_chain.chain
    assert again["token_address"] == sbt.address
    assert again["token_id"] == "1"
    assert again["tx_hash"] == record.tx_hash
    assert SBTRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"milestone": "ten-reviews"}, 400, "detail"),
        ({"milestone": "first-commit"}, 400, "milestone"),
        ({"wallet_address": "So11111111111111111111111111111111111111112"}, 400, "wallet_address"),
        ({"wallet_address": "not a wallet"}, 400, "wallet_address"),
        ({"pulse_id": "pt_nope"}, 404, "detail"),
        ({"pulse_id": None}, 400, "pulse_id"),
    ],
)
def test_refusals_store_nothing(sbt_chain, contributor, overrides, status, field):
    sbt_chain.deploy()
    response = _ask(member_caller(contributor.team.organization), contributor, **overrides)
    assert response.status_code == status, response.json()
    assert field in response.json() and "code" in response.json()
    assert not SBTRecord.objects.exists()


def test_who_may_ask(sbt_chain, contributor):
    sbt_chain.deploy()
    organization = contributor.team.organization
    assert _ask(member_caller(organization, Role.VIEWER), contributor).status_code == 403
    assert _ask(key_caller(organization, "read"), contributor).status_code == 403
    assert _ask(member_caller(OrganizationFactory()), contributor).status_code == 404
    assert _ask(key_caller(OrganizationFactory(), "write"), contributor).status_code == 404
    assert not SBTRecord.objects.exists()
    anonymous = member_caller(organization)
    anonymous.headers = {}
    assert _ask(anonymous, contributor).status_code == 401
    assert _ask(key_caller(organization, "write"), contributor).status_code == 202


def test_metadata_and_badge_of_a_minted_token(
    sbt_chain, contributor, client, django_capture_on_commit_callbacks
):
    sbt = sbt_chain.deploy()
    with django_capture_on_commit_callbacks(execute=True):
        _ask(member_caller(contributor.team.organization), contributor)
    record = SBTRecord.objects.get()
    uri = sbt.functions.tokenURI(1).call()
    path = uri.removeprefix("https://suite.example")
    assert path == f"/api/v1/sbt/{sbt_chain.chain}/{sbt.address}/1"
    response = client.get(path)  # public: no credentials
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=3600, s-maxage=3600"
    document = response.json()
    assert document["name"] == 'First merged pull request · Core <devs> & "friends"'
    assert (
        document["image"]
        == f"https://suite.example/pulse/sbt/{sbt_chain.chain}/{sbt.address}/1/image.svg"
    )
    assert document["attributes"][:2] == [
        {"trait_type": "Milestone", "value": "first-merged-pr"},
        {"trait_type": "Team", "value": 'Core <devs> & "friends"'},
    ]
    date = document["attributes"][2]
    assert date["trait_type"] == "Date" and date["display_type"] == "date"
    assert date["value"] == int(
        record.issued_at.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    )

    image = client.get(f"/pulse/sbt/{sbt_chain.chain}/{sbt.address}/1/image.svg")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert image["Cache-Control"] == "public, max-age=3600, s-maxage=3600"
    assert "default-src 'none'" in image["Content-Security-Policy"]
    svg = image.content.decode()
    assert "Core &lt;devs&gt; &amp; &quot;friends&quot;" in svg
    assert "<devs>" not in svg
    assert "PULSE #1" in svg

    # Lower-case address is the same token; unknown tokens and contracts are 404.
    assert client.get(path.replace(sbt.address, sbt.address.lower())).status_code == 200
    assert client.get(path[:-1] + "2").status_code == 404
    assert client.get(path.replace(sbt.address, "0xnope")).status_code == 404
    assert client.get(f"/pulse/sbt/{sbt_chain.chain}/{sbt.address}/2/image.svg").status_code == 404


def test_a_token_not_yet_minted_has_no_metadata(sbt_chain, contributor, client):
    sbt = sbt_chain.deploy()
    _ask(member_caller(contributor.team.organization), contributor)  # mint never ran
    assert SBTRecord.objects.get().status == SBTStatus.CLAIMED
    assert client.get(f"/api/v1/sbt/{sbt_chain.chain}/{sbt.address}/1").status_code == 404
