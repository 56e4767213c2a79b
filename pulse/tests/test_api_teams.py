from __future__ import annotations

import pytest
from eth_account import Account

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from pulse.models import (
    Contribution,
    Contributor,
    IdentityStatus,
    Platform,
    RepositoryClaim,
    Team,
    TeamRepository,
)
from pulse.tests.factories import (
    ContributionFactory,
    ContributorFactory,
    SBTRecordFactory,
    TeamFactory,
    TeamRepositoryFactory,
)
from trace.tests.callers import key_caller, member_caller

pytestmark = pytest.mark.django_db


def test_create_team_shows_the_secret_once_and_the_webhook_url(organization, settings):
    settings.PUBLIC_BASE_URL = "https://pulse.example"
    caller = member_caller(organization)
    response = caller.post(
        "/api/v1/teams",
        {
            "organization": str(organization.id),
            "team_name": "Core devs",
            "github_repos": ["Octo-Org/Hello-World", "octo-org/hello-world", "octo-org/api"],
            "discord_guild_id": "1234567890123456789",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    team = Team.objects.get()
    assert body["pulse_id"] == team.pulse_id
    assert body["team_name"] == "Core devs"
    assert body["github_webhook_url"] == (
        f"https://pulse.example/api/v1/github/webhook?team={team.pulse_id}"
    )
    assert len(body["github_webhook_secret"]) == 64
    assert team.github_webhook_secret == body["github_webhook_secret"]
    assert body["vitality_score"] is None and body["contributors"] == 0
    assert [r["full_name"] for r in body["github_repos"]] == [
        "octo-org/api",
        "octo-org/hello-world",
    ]
    assert set(TeamRepository.objects.values_list("claim", flat=True)) == {RepositoryClaim.WEBHOOK}
    assert team.discord_guild_id == "1234567890123456789"
    # Shown once: reading the team never shows it again.
    again = caller.get(f"/api/v1/teams/{team.pulse_id}").json()
    assert "github_webhook_secret" not in again
    assert again == {
        "pulse_id": team.pulse_id,
        "team_name": "Core devs",
        "vitality_score": None,
        "developer_activity_score": None,
        "team_retention_score": None,
        "contributors": 0,
        "last_calculated_at": None,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"team_name": ""},
        {"github_repos": ["not a repo"]},
        {"github_repos": ["owner/.."]},
        {"github_repos": "owner/repo"},
        {"discord_guild_id": "abc"},
        {"organization": "not-a-uuid"},
    ],
)
def test_create_team_refuses_bad_input_and_stores_nothing(organization, changes):
    caller = member_caller(organization)
    body = {"organization": str(organization.id), "team_name": "T", **changes}
    response = caller.post("/api/v1/teams", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Team.objects.exists() and not TeamRepository.objects.exists()


def test_create_team_needs_write(organization):
    viewer = member_caller(organization, Role.VIEWER)
    assert (
        viewer.post(
            "/api/v1/teams", {"organization": str(organization.id), "team_name": "T"}
        ).status_code
        == 403
    )
    reader = key_caller(organization, "read")
    assert (
        reader.post(
            "/api/v1/teams", {"organization": str(organization.id), "team_name": "T"}
        ).status_code
        == 403
    )
    writer = key_caller(organization, "write")
    assert (
        writer.post(
            "/api/v1/teams", {"organization": str(organization.id), "team_name": "T"}
        ).status_code
        == 201
    )
    stranger = member_caller(OrganizationFactory())
    response = stranger.post(
        "/api/v1/teams", {"organization": str(organization.id), "team_name": "T"}
    )
    assert response.status_code == 404
    assert Team.objects.count() == 1


def test_another_organizations_team_is_404(team):
    stranger = member_caller(OrganizationFactory())
    assert stranger.get(f"/api/v1/teams/{team.pulse_id}").status_code == 404
    assert stranger.post(f"/api/v1/teams/{team.pulse_id}/github-secret", {}).status_code == 404
    response = stranger.post(
        f"/api/v1/teams/{team.pulse_id}/contributors", {"wallet_address": Account.create().address}
    )
    assert response.status_code == 404
    assert not Contributor.objects.exists()
    assert member_caller(team.organization).get("/api/v1/teams/pt_nope").status_code == 404


def test_team_detail_counts_contributors_and_a_read_key_sees_it(team):
    ContributorFactory.create_batch(3, team=team)
    ContributorFactory()  # another team's
    body = key_caller(team.organization, "read").get(f"/api/v1/teams/{team.pulse_id}").json()
    assert body["contributors"] == 3


def test_rotating_the_secret_is_for_owners_and_admins(team):
    old = team.github_webhook_secret
    assert (
        member_caller(team.organization)
        .post(f"/api/v1/teams/{team.pulse_id}/github-secret", {})
        .status_code
        == 403
    )
    assert (
        key_caller(team.organization, "read", "write")
        .post(f"/api/v1/teams/{team.pulse_id}/github-secret", {})
        .status_code
        == 403
    )
    team.refresh_from_db()
    assert team.github_webhook_secret == old
    response = member_caller(team.organization, Role.ADMIN).post(
        f"/api/v1/teams/{team.pulse_id}/github-secret", {}
    )
    assert response.status_code == 200
    team.refresh_from_db()
    assert response.json()["github_webhook_secret"] == team.github_webhook_secret != old
    assert response.json()["github_webhook_url"].endswith(
        f"/api/v1/github/webhook?team={team.pulse_id}"
    )


def test_add_contributor_is_idempotent_per_wallet(team):
    caller = member_caller(team.organization)
    wallet = Account.create().address
    path = f"/api/v1/teams/{team.pulse_id}/contributors"
    first = caller.post(path, {"wallet_address": wallet.lower(), "github_username": "Octo-Cat"})
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["wallet_address"] == wallet  # checksummed
    assert body["github_username"] == "octo-cat"
    assert body["github_identity"] == IdentityStatus.ASSERTED
    repeat = caller.post(path, {"wallet_address": wallet, "github_username": "octo-cat"})
    assert repeat.status_code == 200 and repeat.json()["id"] == body["id"]
    assert caller.post(path, {"wallet_address": wallet}).status_code == 200
    other_identity = caller.post(path, {"wallet_address": wallet, "github_username": "someone"})
    assert other_identity.status_code == 409
    login_taken = caller.post(
        path, {"wallet_address": Account.create().address, "github_username": "octo-cat"}
    )
    assert login_taken.status_code == 409
    assert Contributor.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"wallet_address": "0x123"},
        {"wallet_address": ""},
        {"wallet_address": Account.create().address, "github_username": "-bad-"},
        {"wallet_address": Account.create().address, "discord_id": "not-digits"},
        {"github_username": "octo"},
    ],
)
def test_add_contributor_refuses_bad_input(team, body):
    response = member_caller(team.organization).post(
        f"/api/v1/teams/{team.pulse_id}/contributors", body
    )
    assert response.status_code == 400
    assert not Contributor.objects.exists()


def test_add_contributor_accepts_a_solana_wallet(team):
    wallet = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"
    response = member_caller(team.organization).post(
        f"/api/v1/teams/{team.pulse_id}/contributors", {"wallet_address": wallet}
    )
    assert response.status_code == 201
    assert Contributor.objects.get().wallet_namespace == "solana"


def test_unclaimed_contributions_are_attached_when_a_contributor_claims_the_login(team):
    waiting = ContributionFactory.create_batch(
        2, team=team, contributor=None, source_login="octo-cat"
    )
    discord_waiting = ContributionFactory(
        team=team,
        contributor=None,
        platform=Platform.DISCORD,
        source_login="123456789012345678",
        contribution_type="message",
    )
    elsewhere = ContributionFactory(contributor=None, source_login="octo-cat")  # another team
    response = member_caller(team.organization).post(
        f"/api/v1/teams/{team.pulse_id}/contributors",
        {"wallet_address": Account.create().address, "github_username": "octo-cat"},
    )
    contributor = Contributor.objects.get(id=response.json()["id"])
    assert set(contributor.contributions.values_list("id", flat=True)) == {c.id for c in waiting}
    assert contributor.last_active_at == max(c.occurred_at for c in waiting)
    assert Contribution.objects.get(id=discord_waiting.id).contributor is None
    assert Contribution.objects.get(id=elsewhere.id).contributor is None


def test_contributor_profile_lists_visible_teams_and_tokens(team):
    wallet = Account.create().address
    mine = ContributorFactory(team=team, wallet_address=wallet)
    hidden = ContributorFactory(wallet_address=wallet)  # another organization's team
    SBTRecordFactory(
        team=team,
        contributor=mine,
        status="minted",
        token_id="7",
        tx_hash="0x" + "ab" * 32,
        token_address="0x" + "11" * 20,
    )
    SBTRecordFactory(team=hidden.team, contributor=hidden)
    caller = key_caller(team.organization, "read")
    body = caller.get(f"/api/v1/contributors/{wallet.lower()}").json()
    assert body["wallet_address"] == wallet
    assert [t["pulse_id"] for t in body["teams"]] == [team.pulse_id]
    assert body["teams"][0]["contribution_score"] == 0.0
    assert len(body["sbts"]) == 1
    assert body["sbts"][0]["milestone"] == "first-merged-pr"
    assert body["sbts"][0]["token_id"] == "7"
    assert body["sbts"][0]["chain"] == "eip155:31337"
    stranger = member_caller(OrganizationFactory())
    assert stranger.get(f"/api/v1/contributors/{wallet}").status_code == 404
    assert caller.get("/api/v1/contributors/not-a-wallet").status_code == 404


def test_contributor_profile_reads_in_a_fixed_number_of_queries(
    team, django_assert_max_num_queries
):
    wallet = Account.create().address
    for other in TeamFactory.create_batch(3, organization=team.organization):
        contributor = ContributorFactory(team=other, wallet_address=wallet)
        SBTRecordFactory(team=other, contributor=contributor)
    caller = key_caller(team.organization, "read")
    with django_assert_max_num_queries(6):
        body = caller.get(f"/api/v1/contributors/{wallet}").json()
    assert len(body["teams"]) == 3 and len(body["sbts"]) == 3


def test_repository_claim_on_a_repository_held_through_the_app_lapses_at_once(organization):
    TeamRepositoryFactory(full_name="octo/held", claim=RepositoryClaim.APP)
    response = member_caller(organization).post(
        "/api/v1/teams",
        {"organization": str(organization.id), "team_name": "T", "github_repos": ["octo/held"]},
    )
    assert response.json()["github_repos"] == [
        {"full_name": "octo/held", "claim": "webhook", "lapsed": True}
    ]


def test_creating_a_team_and_rotating_its_secret_are_audited(organization):
    from accounts.models import AuditEvent

    admin = member_caller(organization, Role.ADMIN)
    body = admin.post(
        "/api/v1/teams", {"organization": str(organization.id), "team_name": "T"}
    ).json()
    admin.post(f"/api/v1/teams/{body['pulse_id']}/github-secret", {})
    events = list(AuditEvent.objects.order_by("at").values_list("action", "actor_id", "details"))
    assert [(a, actor) for a, actor, _ in events] == [
        ("pulse_team.created", admin.user.id),
        ("pulse_team.secret_rotated", admin.user.id),
    ]
    assert body["github_webhook_secret"] not in str(events)
