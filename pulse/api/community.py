"""A team's Discord install link and Notion connection, for automation (the pages offer the
same): thin views over pulse.services."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.access import WRITE, access_of
from fabrknt.api.errors import error_responses
from pulse.selectors import team_for_caller
from pulse.services.discord_install import discord_install_url
from pulse.services.notion import notion_connect, notion_disconnect


class DiscordInstallSerializer(serializers.Serializer):
    pulse_id = serializers.CharField()
    install_url = serializers.URLField(
        help_text="Discord's bot authorization with the team's signed state; single use"
    )
    expires_in = serializers.IntegerField(help_text="seconds the link works")


class NotionInSerializer(serializers.Serializer):
    access_token = serializers.CharField(
        max_length=200, write_only=True, help_text="the internal integration's secret"
    )


class NotionSerializer(serializers.Serializer):
    pulse_id = serializers.CharField()
    workspace_name = serializers.CharField()
    last_polled_at = serializers.DateTimeField(allow_null=True)


class TeamDiscordInstallView(APIView):
    @extend_schema(
        operation_id="pulse_teams_discord_install",
        request=None,
        responses={200: DiscordInstallSerializer, **error_responses(401, 403, 404, 503)},
        description="A new install link for the team's Discord server: a server admin who "
        "follows it adds our bot, and the server becomes the team's alone.",
        tags=["pulse"],
    )
    def post(self, request: Request, pulse_id: str) -> Response:
        team = team_for_caller(access=access_of(request), pulse_id=pulse_id, kind=WRITE)
        return Response(
            {
                "pulse_id": team.pulse_id,
                "install_url": discord_install_url(team=team),
                "expires_in": int(settings.DISCORD_INSTALL_LINK_TTL.total_seconds()),
            }
        )


class TeamNotionView(APIView):
    @extend_schema(
        operation_id="pulse_teams_notion_connect",
        request=NotionInSerializer,
        responses={200: NotionSerializer, **error_responses(400, 401, 403, 404, 503)},
        description="Connect (or reconnect) the team's Notion workspace with an integration "
        "secret; Notion checks it; it is stored encrypted and never shown again.",
        tags=["pulse"],
    )
    def post(self, request: Request, pulse_id: str) -> Response:
        team = team_for_caller(access=access_of(request), pulse_id=pulse_id, kind=WRITE)
        serializer = NotionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connection = notion_connect(
            team=team, access_token=serializer.validated_data["access_token"]
        )
        return Response(
            {
                "pulse_id": team.pulse_id,
                "workspace_name": connection.workspace_name,
                "last_polled_at": connection.last_polled_at,
            }
        )

    @extend_schema(
        operation_id="pulse_teams_notion_disconnect",
        request=None,
        responses={204: None, **error_responses(401, 403, 404)},
        tags=["pulse"],
    )
    def delete(self, request: Request, pulse_id: str) -> Response:
        team = team_for_caller(access=access_of(request), pulse_id=pulse_id, kind=WRITE)
        notion_disconnect(team=team)
        return Response(status=status.HTTP_204_NO_CONTENT)
