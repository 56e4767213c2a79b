"""Serializers of the metrics and growth-certificate endpoints (input and output apart)."""

from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from rest_framework import serializers

from fabrknt.api.serializers import FieldsBuiltOnce
from trace.models import ActivityMetric
from trace.services.metrics import EARLIEST_DATE, LATEST_DATE

# Longest period one request may read or certify.
MAX_PERIOD_DAYS = 366


def _period_day() -> serializers.DateField:
    return serializers.DateField(
        required=False,
        input_formats=["iso-8601"],
        validators=[MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)],
    )


class PeriodQuerySerializer(serializers.Serializer):
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD`; both optional, each between EARLIEST_DATE and
    LATEST_DATE. `from` is a Python keyword, hence the fields are declared in
    `get_fields`."""

    def get_fields(self) -> dict:
        return {"from": _period_day(), "to": _period_day()}

    def validate(self, attrs: dict) -> dict:
        date_from, date_to = attrs.get("from"), attrs.get("to")
        if date_from and date_to:
            if date_from > date_to:
                raise serializers.ValidationError({"from": "`from` must not be after `to`."})
            if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
                raise serializers.ValidationError(
                    {"to": f"A period covers at most {MAX_PERIOD_DAYS} days."}
                )
        return attrs


def default_metrics_period(attrs: dict, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 30 days (today included) unless the caller says otherwise."""
    date_to = attrs.get("to") or max(today, attrs.get("from") or today)
    date_from = attrs.get("from") or date_to - dt.timedelta(days=29)
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise serializers.ValidationError(
            {"from": [f"A period covers at most {MAX_PERIOD_DAYS} days."]}
        )
    return date_from, date_to


class MetricDaySerializer(FieldsBuiltOnce):
    unpriced_transfers = serializers.IntegerField(
        help_text="transfers of assets the registry cannot price (unknown token, no price, "
        "NFT, above the per-transfer cap): stored, counted here, valued 0"
    )
    volume_flagged = serializers.BooleanField(
        help_text="the volume is above the daily sanity cap: stored as summed, but implausible"
    )
    volume_flag_reason = serializers.CharField(help_text='why it is flagged; "" when it is not')

    class Meta:
        model = ActivityMetric
        fields = [
            "date",
            "dau",
            "wau",
            "mau",
            "transaction_count",
            "transaction_volume_usd",
            "unpriced_transfers",
            "volume_flagged",
            "volume_flag_reason",
            "activity_score",
            "bot_share",
            "score_components",
        ]


# Each day as MetricDaySerializer writes it, from the stored columns in its field order.
_METRIC_DAY_COLUMNS = [
    "date",
    "dau",
    "wau",
    "mau",
    "transaction_count",
    "transaction_volume_usd",
    "unpriced_transfers",
    "volume_flag_reason",
    "activity_score",
    "bot_share",
    "score_components",
]
_CENT = Decimal("0.01")
# DRF quantizes with the field's max_digits as precision (the default 28 is too few).
_VOLUME_DIGITS = Context(prec=ActivityMetric._meta.get_field("transaction_volume_usd").max_digits)


def metric_days_data(days: QuerySet[ActivityMetric]) -> list[dict[str, Any]]:
    """`MetricDaySerializer(days, many=True).data`, at a fifth of its CPU.

    A project's metrics read returns up to a year of days × 12 fields; loading them as
    model instances (1 ms for 30 days) and calling DRF's field machinery per value (0.6 ms)
    cost more than the rest of the request. The rows are read as tuples and written as
    the serializer writes them (ISO dates, the volume as a 2-place string, floats, the
    JSON as stored); MetricDaySerializer stays the declared schema, and
    trace/tests/test_api_metrics_fast.py holds both to the same output."""
    return [
        {
            "date": date.isoformat(),
            "dau": dau,
            "wau": wau,
            "mau": mau,
            "transaction_count": transaction_count,
            "transaction_volume_usd": format(volume.quantize(_CENT, context=_VOLUME_DIGITS), "f"),
            "unpriced_transfers": unpriced,
            "volume_flagged": bool(reason),
            "volume_flag_reason": reason,
            "activity_score": float(score),
            "bot_share": float(bot_share),
            "score_components": components,
        }
        for (
            date,
            dau,
            wau,
            mau,
            transaction_count,
            volume,
            unpriced,
            reason,
            score,
            bot_share,
            components,
        ) in days.values_list(*_METRIC_DAY_COLUMNS)
    ]


class MetricsResponseSerializer(serializers.Serializer):
    project_id = serializers.UUIDField()
    results = MetricDaySerializer(many=True, help_text="one row per day, oldest first")


class CertificatePeriodSerializer(serializers.Serializer):
    def get_fields(self) -> dict:
        return {"from": serializers.DateField(), "to": serializers.DateField()}


class CertificateMetricsSerializer(serializers.Serializer):
    dau = serializers.IntegerField(help_text="on the period's last day")
    wau = serializers.IntegerField(help_text="on the period's last day")
    mau = serializers.IntegerField(help_text="on the period's last day")
    transaction_count = serializers.IntegerField(help_text="summed over the period")
    transaction_volume_usd = serializers.CharField(help_text='summed over the period, "1250.00"')
    unpriced_transfers = serializers.IntegerField(
        help_text="summed over the period: transfers valued 0 because nothing prices them"
    )
    volume_flagged_days = serializers.IntegerField(
        help_text="days of the period whose volume is above the daily sanity cap"
    )
    activity_score = serializers.FloatField(help_text="0–100, on the period's last day")
    bot_share = serializers.FloatField(help_text="0–1, on the period's last day")
    proven_conversion_share = serializers.FloatField(
        allow_null=True,
        help_text="0–1: of the value of the period's conversions of the project's campaigns, "
        "the share credited through proven (wallet-signed) links; null without value",
    )


class CertificateOrganizationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class CertificateContractSerializer(serializers.Serializer):
    chain = serializers.CharField(help_text="CAIP-2")
    address = serializers.CharField()
    control_verified = serializers.BooleanField(
        help_text="the organization proved control of it (verify-message, verify)"
    )


class CertificateSerializer(serializers.Serializer):
    certificate_id = serializers.UUIDField()
    version = serializers.IntegerField(
        help_text="2: signed over RFC 8785 JSON; 1: issued before, signed over sorted JSON"
    )
    issuer = serializers.CharField()
    project_id = serializers.UUIDField()
    project_name = serializers.CharField()
    chain = serializers.CharField()
    organization = CertificateOrganizationSerializer(help_text="the project's organization")
    contracts = CertificateContractSerializer(
        many=True, help_text="every contract the project watches"
    )
    period = CertificatePeriodSerializer()
    metrics = CertificateMetricsSerializer(
        help_text="from everything the project watches (contracts and treasury addresses)"
    )
    verified_metrics = CertificateMetricsSerializer(
        allow_null=True,
        help_text="the same figures from control-verified contracts only; null when no "
        "contract is verified",
    )
    issued_at = serializers.CharField(help_text="ISO-8601 UTC, e.g. 2025-03-31T12:00:00Z")
    valid_until = serializers.CharField(help_text="issued_at + 90 days")


class CertificateDocumentSerializer(serializers.Serializer):
    certificate = CertificateSerializer()
    signature = serializers.CharField(
        help_text="base64 Ed25519 signature over the certificate's canonical JSON: RFC 8785 "
        "(JCS) for version 2 and later; sorted, compact JSON for version 1"
    )
    algorithm = serializers.ChoiceField(choices=["ed25519"])
    key_id = serializers.CharField(help_text="see GET /api/v1/certificates/keys")


class CertificateKeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.ChoiceField(choices=["ed25519"])
    public_key = serializers.CharField(help_text="base64 of the raw 32-byte Ed25519 key")


class CertificateKeysSerializer(serializers.Serializer):
    keys = CertificateKeySerializer(many=True)
