"""The tokens page (pulse.pages.sbt): a contributor's tokens, milestone progress and the
"request mint" form — valid (the token is minted on a real EVM), refused (a message,
nothing stored), a viewer's forged POST (403), another organization's team (404)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from pulse.models import ContributionType, SBTRecord, SBTStatus
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory
from pulse.tests.sbt_chain import (  # noqa: F401  (fixtures)
    sbt_chain_fixture,
    sbt_chain_module_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contributor(sbt_chain):
    contributor = ContributorFactory(team=TeamFactory())
    ContributionFactory(
        team=contributor.team,
        contributor=contributor,
        contribution_type=ContributionType.PULL_REQUEST_MERGED,
    )
    return contributor


def _url(contributor) -> str:
    return reverse("pulse_sbt:tokens", args=[contributor.team.pulse_id, contributor.pk])


def _sign_in(client, contributor, role=Role.MEMBER):
    membership = MembershipFactory(organization=contributor.team.organization, role=role)
    client.force_login(membership.user)


def test_request_a_mint(client, sbt_chain, contributor, django_capture_on_commit_callbacks):
    sbt = sbt_chain.deploy()
    _sign_in(client, contributor)
    page = client.get(_url(contributor))
    assert page.status_code == 200
    body = page.content.decode()
    assert "No tokens yet" in body
    assert 'id="sbt-request-form"' in body
    assert "0 of 10" in body  # ten reviews: none yet
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(contributor), {"milestone": "first-merged-pr"})
    assert response.status_code == 303 and response["Location"] == _url(contributor)
    record = SBTRecord.objects.get()
    assert record.status == SBTStatus.MINTED
    assert sbt.functions.ownerOf(1).call() == contributor.wallet_address
    body = client.get(_url(contributor)).content.decode()
    assert "is queued" in body
    assert 'data-testid="sbt-token-first-merged-pr"' in body
    assert f"/pulse/sbt/{sbt_chain.chain}/{sbt.address}/1/image.svg" in body
    assert '<option value="first-merged-pr"' not in body  # held: no longer offered


def test_an_unmet_milestone_is_refused(client, sbt_chain, contributor):
    sbt_chain.deploy()
    _sign_in(client, contributor)
    response = client.post(_url(contributor), {"milestone": "hundred-commits"})
    assert response.status_code == 400
    assert "The milestone is not met yet: A hundred commits." in response.content.decode()
    assert not SBTRecord.objects.exists()


def test_a_viewer_sees_but_cannot_ask(client, sbt_chain, contributor):
    sbt_chain.deploy()
    _sign_in(client, contributor, Role.VIEWER)
    page = client.get(_url(contributor))
    assert page.status_code == 200
    assert 'id="sbt-request-form"' not in page.content.decode()
    assert client.post(_url(contributor), {"milestone": "first-merged-pr"}).status_code == 403
    assert not SBTRecord.objects.exists()


def test_another_organizations_team_is_404(client, sbt_chain, contributor):
    other = ContributorFactory()
    _sign_in(client, other)
    assert client.get(_url(contributor)).status_code == 404
    assert client.post(_url(contributor), {"milestone": "first-merged-pr"}).status_code == 404
    assert not SBTRecord.objects.exists()
