"""`GET /api/v1/vitality/{pulse_id}`: a team's scores and what they are made of."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.access import READ, access_of
from fabrknt.api.errors import error_responses
from pulse.models import Team
from pulse.services.vitality import team_vitality


class VitalitySerializer(serializers.Serializer):
    pulse_id = serializers.CharField()
    vitality_score = serializers.FloatField(
        allow_null=True, help_text="0–100; null until calculated"
    )
    developer_activity_score = serializers.FloatField(allow_null=True, help_text="0–100")
    team_retention_score = serializers.FloatField(allow_null=True, help_text="0–100")
    community_score = serializers.FloatField(
        allow_null=True, help_text="0–100: the Omotenashi-weighted Discord activity"
    )
    verified_share = serializers.FloatField(
        allow_null=True,
        help_text="0–1: how much of the vitality score comes from verified events by linked "
        "identities (null when there is nothing to share out)",
    )
    components = serializers.DictField(
        help_text="what each score is made of: points per contribution type, verified points "
        "and share, the retention and bus-factor figures, the weights and formulas "
        "(README, “PULSE scores”); empty until calculated"
    )
    calculated_at = serializers.DateTimeField(allow_null=True)


class VitalityView(APIView):
    @extend_schema(
        operation_id="pulse_vitality_retrieve",
        summary="A team's vitality, developer activity, retention and community scores, explained",
        description="Scores are 0–100, recalculated daily (and by `manage.py calculate_scores`); "
        "null until the first calculation. `components` lists what each was made of.",
        responses={200: VitalitySerializer, **error_responses(401, 404)},
        tags=["pulse"],
    )
    def get(self, request: Request, pulse_id: str) -> Response:
        team = access_of(request).get(Team.objects.all(), READ, pulse_id=pulse_id)
        return Response(VitalitySerializer(team_vitality(team=team)).data)
