"""TRACE API shapes. Input and output serializers are kept apart where they differ.

The click fast path does not run these (see trace.services.clicks); ClickSerializer
describes it in the OpenAPI schema and is what the naive benchmark baseline uses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fabrknt.api.serializers import FieldsBuiltOnce
from trace.models import (
    MONEY_MAX_DIGITS,
    MONEY_SUM_MAX_DIGITS,
    AttributionModel,
    Campaign,
    CampaignStatus,
    ControlMethod,
    Conversion,
    Project,
    WalletLink,
)
from trace.services.campaigns import MAX_WINDOW_DAYS
from trace.services.clicks.validation import (
    MAX_REFERRER,
    MAX_USER_AGENT,
    MAX_UTM_KEY,
    MAX_UTM_KEYS,
    MAX_UTM_VALUE,
)
from trace.services.contract_control import project_contracts_status
from trace.services.projects import MAX_ADDRESSES

CLICK_ID_REGEX = r"^[A-Za-z0-9_-]{1,64}$"
EVENT_TYPE_REGEX = r"^[A-Za-z0-9_.:-]{1,64}$"


class _Money(serializers.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)


class _MoneySum(_Money):
    """A sum of money columns: as wide as any such sum the database can hold (a field of
    MONEY_MAX_DIGITS would raise on output above 10**18)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=MONEY_SUM_MAX_DIGITS, **kwargs)


class _Ratio(serializers.FloatField):
    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


# --- projects ---------------------------------------------------------------------------


class ProjectInSerializer(serializers.Serializer):
    organization = serializers.UUIDField()
    name = serializers.CharField(max_length=200)
    chain = serializers.CharField(max_length=64, help_text="CAIP-2: eip155:<id> or solana:<ref>")
    contract_addresses = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_ADDRESSES
    )
    treasury_addresses = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_ADDRESSES, required=False
    )


class ProjectPatchSerializer(serializers.Serializer):
    """The editable fields; the chain is fixed once a project is created."""

    name = serializers.CharField(max_length=200, required=False)
    contract_addresses = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_ADDRESSES, required=False
    )
    treasury_addresses = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_ADDRESSES, required=False
    )
    chain = serializers.CharField(
        max_length=64, required=False, help_text="fixed: only the project's own chain is accepted"
    )


class ProjectContractSerializer(serializers.Serializer):
    address = serializers.CharField()
    control_verified = serializers.BooleanField(
        help_text="the organization proved control of it (verify-message, then verify)"
    )
    verified_at = serializers.DateTimeField(allow_null=True)
    method = serializers.ChoiceField(
        choices=ControlMethod.choices, allow_null=True, help_text="who signed the proof"
    )


class ProjectSerializer(serializers.ModelSerializer):
    contracts = serializers.SerializerMethodField(
        help_text="every contract the project watches, with its control verification"
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "organization",
            "name",
            "chain",
            "contract_addresses",
            "contracts",
            "treasury_addresses",
            "last_indexed_block",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProjectContractSerializer(many=True))
    def get_contracts(self, project: Project) -> list[dict[str, Any]]:
        contracts = ProjectContractSerializer(project_contracts_status(project=project), many=True)
        # With many=True DRF makes a ListSerializer, whose data is a list; the stubs say dict.
        return contracts.data  # type: ignore[return-value]


# --- campaigns --------------------------------------------------------------------------


class CampaignInSerializer(serializers.Serializer):
    organization = serializers.UUIDField()
    project = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(max_length=200)
    landing_url = serializers.CharField(max_length=2048, help_text="http(s) only")
    target_contract = serializers.CharField(max_length=100, required=False, allow_blank=True)
    budget_usd = _Money(max_digits=14)
    goal = serializers.CharField(max_length=500, required=False, allow_blank=True)
    attribution_model = serializers.ChoiceField(
        choices=AttributionModel.choices, default=AttributionModel.LAST_CLICK
    )
    attribution_window_days = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_DAYS, default=30
    )


class CampaignPatchSerializer(serializers.Serializer):
    """PATCH /campaigns/{id}: any of these; the organization and creator never change."""

    project = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(max_length=200, required=False)
    landing_url = serializers.CharField(max_length=2048, required=False, help_text="http(s) only")
    target_contract = serializers.CharField(max_length=100, required=False, allow_blank=True)
    budget_usd = _Money(max_digits=14, required=False)
    goal = serializers.CharField(max_length=500, required=False, allow_blank=True)
    attribution_model = serializers.ChoiceField(choices=AttributionModel.choices, required=False)
    attribution_window_days = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_DAYS, required=False
    )
    status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)


class CampaignListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=CampaignStatus.choices,
        required=False,
        help_text="only campaigns with this status; without it, all but archived ones",
    )


_PROVEN_SHARE_HELP = (
    "the share of conversion_value_usd credited through clicks whose link to the "
    "converting wallet is proven (signed by the wallet); null when there is no value"
)


class CampaignStatsSerializer(serializers.Serializer):
    clicks = serializers.IntegerField()
    unique_clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()
    converted_wallets = serializers.IntegerField()
    conversion_value_usd = _MoneySum()
    proven_conversion_share = _Ratio(help_text=_PROVEN_SHARE_HELP)


class CampaignSerializer(FieldsBuiltOnce):
    tracking_url = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "organization",
            "project",
            "name",
            "landing_url",
            "target_contract",
            "budget_usd",
            "goal",
            "attribution_model",
            "attribution_window_days",
            "status",
            "tracking_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_tracking_url(self, campaign: Campaign) -> str:
        path = reverse("trace-tracking-link", args=[campaign.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def to_representation(self, campaign: Campaign) -> dict[str, Any]:
        """What ModelSerializer writes from the fields above, written out: its field-by-field
        walk (a lookup and a call per field, per row) was a fifth of a campaign list's
        CPU. The money and the time still go through the fields DRF built, which format
        them; trace/tests/test_api_campaigns_representation.py holds this to DRF's own
        output, byte for byte once rendered."""
        built = self.built_fields()
        return {
            "id": str(campaign.pk),
            "organization": campaign.organization_id,  # as PrimaryKeyRelatedField: the pk
            "project": campaign.project_id,
            "name": campaign.name,
            "landing_url": campaign.landing_url,
            "target_contract": campaign.target_contract,
            "budget_usd": built["budget_usd"].to_representation(campaign.budget_usd),
            "goal": campaign.goal,
            "attribution_model": str(campaign.attribution_model),
            "attribution_window_days": campaign.attribution_window_days,
            "status": str(campaign.status),
            "tracking_url": self.get_tracking_url(campaign),
            "created_at": built["created_at"].to_representation(campaign.created_at),
        }


class CampaignDetailSerializer(CampaignSerializer):
    # The view sets `stats` (a CampaignStats) from the campaigns_with_stats annotations.
    stats = CampaignStatsSerializer(read_only=True)

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "stats"]
        read_only_fields = fields

    def to_representation(self, campaign: Campaign) -> dict[str, Any]:
        data = super().to_representation(campaign)
        data["stats"] = self.built_fields()["stats"].to_representation(campaign.stats)  # type: ignore[attr-defined]
        return data


# --- clicks -----------------------------------------------------------------------------


class ClickSerializer(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    click_id = serializers.RegexField(
        CLICK_ID_REGEX, required=False, help_text="generated (uuid4 hex) when absent"
    )
    referrer = serializers.CharField(max_length=MAX_REFERRER, required=False, allow_blank=True)
    utm_params = serializers.DictField(
        child=serializers.CharField(max_length=MAX_UTM_VALUE, allow_blank=True),
        required=False,
        help_text=f"at most {MAX_UTM_KEYS} keys of at most {MAX_UTM_KEY} characters",
    )
    user_agent = serializers.CharField(max_length=MAX_USER_AGENT, required=False, allow_blank=True)
    ip_address = serializers.IPAddressField(required=False)


class ClickAcceptedSerializer(serializers.Serializer):
    click_id = serializers.CharField()


class ClickBatchSerializer(serializers.Serializer):
    # With many=True the arguments go to a ListSerializer, which takes max_length.
    clicks = ClickSerializer(many=True, max_length=500)  # type: ignore[call-arg]


class ClickRejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    # DRF's metaclass takes declared fields off the class: Serializer.errors stays.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class ClickBatchResultSerializer(serializers.Serializer):
    accepted = serializers.ListField(child=serializers.CharField())
    rejected = ClickRejectionSerializer(many=True)


# --- identify and conversions -----------------------------------------------------------


_CAMPAIGN_ID_HELP = (
    "the click's campaign; required when a signed-in user acts for several organizations "
    "(a click id is unique per organization only); a key acts in its own"
)


class IdentifySerializer(serializers.Serializer):
    click_id = serializers.RegexField(CLICK_ID_REGEX)
    wallet_address = serializers.CharField(max_length=100)
    campaign_id = serializers.UUIDField(required=False, help_text=_CAMPAIGN_ID_HELP)
    message = serializers.CharField(
        max_length=2000,
        required=False,
        trim_whitespace=False,
        help_text="the text GET /api/v1/identify/message gave for this click and wallet",
    )
    signature = serializers.CharField(
        max_length=200,
        required=False,
        help_text="the wallet's signature of `message`: EIP-191 personal_sign (0x hex) for "
        "EVM, Ed25519 (base58) for Solana; makes the link proven",
    )

    def validate(self, data: dict) -> dict:
        if ("message" in data) != ("signature" in data):
            missing = "signature" if "message" in data else "message"
            raise serializers.ValidationError({missing: ["Send message and signature together."]})
        return data


class WalletLinkSerializer(serializers.ModelSerializer):
    click_id = serializers.CharField(source="click.click_id", read_only=True)
    campaign_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = WalletLink
        fields = [
            "id",
            "click_id",
            "campaign_id",
            "wallet_address",
            "proof",
            "identified_at",
            "proven_at",
        ]
        read_only_fields = fields


class IdentifyMessageQuerySerializer(serializers.Serializer):
    click_id = serializers.RegexField(CLICK_ID_REGEX)
    wallet = serializers.CharField(max_length=100, help_text="the wallet that will sign")
    campaign_id = serializers.UUIDField(required=False, help_text=_CAMPAIGN_ID_HELP)


class IdentifyMessageSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="sign exactly this text (UTF-8)")
    expires_at = serializers.DateTimeField()


class ConversionInSerializer(serializers.Serializer):
    click_id = serializers.RegexField(CLICK_ID_REGEX)
    wallet_address = serializers.CharField(max_length=100)
    campaign_id = serializers.UUIDField(required=False, help_text=_CAMPAIGN_ID_HELP)
    transaction_hash = serializers.CharField(max_length=128)
    value_usd = _Money(required=False, default=Decimal("0.00"))
    contract_address = serializers.CharField(max_length=100, required=False, allow_blank=True)
    event_type = serializers.RegexField(EVENT_TYPE_REGEX, required=False)


class ConversionCreditSerializer(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    click_id = serializers.CharField(source="click.click_id", allow_null=True, default=None)
    share = serializers.DecimalField(max_digits=7, decimal_places=6)
    value_usd = _Money()


class ConversionSerializer(serializers.ModelSerializer):
    campaign_id = serializers.UUIDField(read_only=True)
    click_id = serializers.CharField(source="click.click_id", read_only=True, default=None)
    credits = ConversionCreditSerializer(many=True, read_only=True)

    class Meta:
        model = Conversion
        fields = [
            "id",
            "campaign_id",
            "click_id",
            "wallet_address",
            "transaction_hash",
            "event_type",
            "value_usd",
            "contract_address",
            "source",
            "occurred_at",
            "created_at",
            "credits",
        ]
        read_only_fields = fields


# --- ROI --------------------------------------------------------------------------------


class RoiSerializer(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    budget_usd = _Money()
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()
    converted_wallets = serializers.IntegerField()
    conversion_value_usd = _MoneySum()
    roi = _Ratio(help_text="(value - budget) / budget")
    cac_usd = _Money(allow_null=True, help_text="budget / converted wallets")
    conversion_rate = _Ratio(help_text="conversions / clicks")
    proven_conversion_share = _Ratio(help_text=_PROVEN_SHARE_HELP)
