"""Serializers of the landing-domain endpoints (input and output apart)."""

from __future__ import annotations

from rest_framework import serializers

from trace.models import LandingDomain
from trace.services.domains import VERIFICATION_PATH, verification_url


class LandingDomainInSerializer(serializers.Serializer):
    domain = serializers.CharField(
        max_length=253, help_text="A host name: app.example.com (IDN allowed), no scheme"
    )


class LandingDomainSerializer(serializers.ModelSerializer):
    verification_url = serializers.SerializerMethodField(
        help_text="Where the token must be served (text, one token per line is fine)"
    )
    file_path = serializers.SerializerMethodField()
    verified = serializers.SerializerMethodField()

    class Meta:
        model = LandingDomain
        fields = [
            "domain",
            "token",
            "verification_url",
            "file_path",
            "verified",
            "verified_at",
            "last_checked_at",
            "last_error",
            "created_at",
        ]

    def get_verification_url(self, landing_domain: LandingDomain) -> str:
        return verification_url(domain=landing_domain.domain)

    def get_file_path(self, landing_domain: LandingDomain) -> str:
        return VERIFICATION_PATH

    def get_verified(self, landing_domain: LandingDomain) -> bool:
        return landing_domain.verified_at is not None
