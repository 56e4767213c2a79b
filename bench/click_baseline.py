"""The naive baseline bench/clicks.py compares the fast path with: what a first version of
POST /api/v1/clicks would be with stock DRF (a ModelSerializer, one ORM INSERT per request,
the default authentication, permission and throttle classes). Mounted only by the bench
server (bench.click_settings); never part of the app. Also mounts the fast path's view on
the full middleware stack, to measure what the lean ingest handler saves."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from django.utils import timezone
from rest_framework import generics, serializers

from fabrknt.api.access import INGEST, access_of
from trace.api.clicks import click_ingest
from trace.models import Campaign, Click


class BaselineClickSerializer(serializers.ModelSerializer):
    campaign_id = serializers.PrimaryKeyRelatedField(
        source="campaign", queryset=Campaign.objects.all()
    )
    ip_address = serializers.IPAddressField(required=False)

    class Meta:
        model = Click
        fields = ["campaign_id", "click_id", "referrer", "utm_params", "user_agent", "ip_address"]


class BaselineClickView(generics.CreateAPIView):
    serializer_class = BaselineClickSerializer

    def get_serializer(self, *args, **kwargs):
        # A BaselineClickSerializer; DRF's types know neither it nor its field's queryset.
        serializer: Any = super().get_serializer(*args, **kwargs)
        field = serializer.fields["campaign_id"]
        field.queryset = access_of(self.request).scoped(Campaign.objects.all(), INGEST)
        return serializer

    def perform_create(self, serializer) -> None:
        campaign = serializer.validated_data["campaign"]
        serializer.save(occurred_at=timezone.now(), organization_id=campaign.organization_id)


urlpatterns = [
    path("bench/clicks-baseline", BaselineClickView.as_view()),
    # The fast path's own view behind Django's whole middleware stack, not the lean
    # ingest handler's (fabrknt.handlers): what that handler saves.
    path("bench/clicks-full-stack", click_ingest),
    path("", include("fabrknt.urls")),
]
