from __future__ import annotations

from rest_framework import serializers

from pulse.api.teams_serializers import SBTSerializer
from pulse.models import Milestone


class MintSbtInSerializer(serializers.Serializer):
    pulse_id = serializers.CharField(max_length=32)
    wallet_address = serializers.CharField(max_length=64)
    milestone = serializers.ChoiceField(choices=Milestone.choices)


class SbtRecordSerializer(SBTSerializer):
    """A contributor's `sbts` entry (GET /api/v1/contributors/{wallet}), with the record's
    id and wallet: the answer of POST /api/v1/mint-sbt."""

    id = serializers.UUIDField()
    wallet_address = serializers.CharField()
    created_at = serializers.DateTimeField()


class TokenAttributeSerializer(serializers.Serializer):
    trait_type = serializers.CharField()
    value = serializers.JSONField()
    display_type = serializers.CharField(required=False)


class TokenMetadataSerializer(serializers.Serializer):
    """ERC-721 metadata JSON (the EIP's schema, with OpenSea's `attributes`)."""

    name = serializers.CharField()
    description = serializers.CharField()
    image = serializers.URLField()
    external_url = serializers.URLField()
    attributes = TokenAttributeSerializer(many=True)
