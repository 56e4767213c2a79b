from __future__ import annotations

from rest_framework import serializers

from pulse.models import Milestone, SBTRecord


class MintSbtInSerializer(serializers.Serializer):
    pulse_id = serializers.CharField(max_length=32)
    wallet_address = serializers.CharField(max_length=64)
    milestone = serializers.ChoiceField(choices=Milestone.choices)


class SbtRecordSerializer(serializers.ModelSerializer[SBTRecord]):
    pulse_id = serializers.CharField(source="team.pulse_id", read_only=True)

    class Meta:
        model = SBTRecord
        fields = [
            "id",
            "pulse_id",
            "wallet_address",
            "milestone",
            "status",
            "chain",
            "token_address",
            "token_id",
            "tx_hash",
            "issued_at",
            "created_at",
        ]
        read_only_fields = fields


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
