"""PULSE teams and contributors API: thin views over pulse.services and pulse.selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from fabrknt.api.access import MANAGE, WRITE, access_of
from fabrknt.api.errors import error_responses
from pulse.api import teams_serializers as s
from pulse.models import Team
from pulse.selectors import contributor_profile, team_for_caller, teams_with_counts
from pulse.services.contributors import contributor_add
from pulse.services.teams import team_create, team_github_secret_rotate, team_github_webhook_url


def _valid(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _actor(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) and request.user.pk else None


class TeamCreateView(APIView):
    @extend_schema(
        operation_id="pulse_teams_create",
        request=s.TeamInSerializer,
        responses={201: s.TeamCreatedSerializer, **error_responses(400, 401, 403, 404)},
        description="A new team. The answer carries the repository webhook secret, shown "
        "only here, and the team's webhook URL (`/api/v1/github/webhook?team=<pulse_id>`).",
        tags=["pulse"],
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.TeamInSerializer, request)
        organization = access_of(request).organization(data.pop("organization"), WRITE)
        created = team_create(organization=organization, actor=_actor(request), **data)
        team = teams_with_counts(Team.objects.filter(pk=created.team.pk)).get()
        serializer = s.TeamCreatedSerializer(
            team, context={"github_webhook_secret": created.github_webhook_secret}
        )
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class TeamDetailView(APIView):
    @extend_schema(
        operation_id="pulse_teams_retrieve",
        responses={200: s.TeamSerializer, **error_responses(401, 404)},
        tags=["pulse"],
    )
    def get(self, request: Request, pulse_id: str) -> Response:
        team = team_for_caller(access=access_of(request), pulse_id=pulse_id)
        return Response(s.TeamSerializer(team).data)


class TeamGitHubSecretView(APIView):
    @extend_schema(
        operation_id="pulse_teams_github_secret_rotate",
        request=None,
        responses={200: s.GitHubSecretSerializer, **error_responses(401, 403, 404)},
        description="Rotate the team's repository webhook secret (owners and admins): the "
        "new one is shown only here, the old one stops working at once.",
        tags=["pulse"],
    )
    def post(self, request: Request, pulse_id: str) -> Response:
        team = team_for_caller(access=access_of(request), pulse_id=pulse_id, kind=MANAGE)
        secret = team_github_secret_rotate(team=team, actor=_actor(request))
        return Response(
            {
                "pulse_id": team.pulse_id,
                "github_webhook_secret": secret,
                "github_webhook_url": team_github_webhook_url(team=team),
            }
        )


class TeamContributorsView(APIView):
    @extend_schema(
        operation_id="pulse_contributors_create",
        request=s.ContributorInSerializer,
        responses={
            201: s.ContributorSerializer,
            200: s.ContributorSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
        description="Add a contributor (unique per team and wallet: a repeat answers 200 "
        "with the existing one; other identities for that wallet are 409). The identities "
        "are `asserted` until the contributor links them through OAuth; activity already "
        "received under them is attached.",
        tags=["pulse"],
    )
    def post(self, request: Request, pulse_id: str) -> Response:
        team = team_for_caller(access=access_of(request), pulse_id=pulse_id, kind=WRITE)
        data = _valid(s.ContributorInSerializer, request)
        added = contributor_add(team=team, **data)
        return Response(
            s.ContributorSerializer(added.contributor).data,
            status=status.HTTP_201_CREATED if added.created else status.HTTP_200_OK,
        )


class ContributorProfileView(APIView):
    @extend_schema(
        operation_id="pulse_contributors_retrieve",
        responses={200: s.ContributorProfileSerializer, **error_responses(401, 404)},
        description="A wallet's teams (those the caller may read) and its soulbound tokens.",
        tags=["pulse"],
    )
    def get(self, request: Request, wallet: str) -> Response:
        profile = contributor_profile(access=access_of(request), wallet=wallet)
        return Response(s.ContributorProfileSerializer(profile).data)
