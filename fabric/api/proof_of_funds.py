"""`GET /api/v1/proof-of-funds/{wallet}?amount_usd=`: what one of the caller's own wallets
holds on the configured chains, valued by asset identity (fabric.services.proof_of_funds)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from fabric.models import MONEY_DIGITS
from fabric.services.proof_of_funds import ProofOfFunds, proof_of_funds
from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsUser

# A wallet's total may exceed any price a listing can ask: as wide as the valuation cap.
TOTAL_DIGITS = 24


class ProofOfFundsQuerySerializer(serializers.Serializer):
    amount_usd = serializers.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text="the amount to prove, in USD (a money string such as 1250.00)",
    )


class HoldingSerializer(serializers.Serializer):
    chain = serializers.CharField(help_text="CAIP-2")
    asset = serializers.CharField(help_text="`native`, or the token's contract address")
    symbol = serializers.CharField(help_text="a label; never what the balance is priced by")
    amount = serializers.SerializerMethodField(help_text="in whole units of the asset")
    usd = serializers.DecimalField(
        max_digits=TOTAL_DIGITS, decimal_places=2, allow_null=True, help_text="null: unpriced"
    )
    note = serializers.CharField(help_text="why `usd` is null; empty when priced")

    def get_amount(self, holding) -> str:
        return format(holding.amount.normalize(), "f")


class UnavailableChainSerializer(serializers.Serializer):
    chain = serializers.CharField()
    reason = serializers.CharField()


class ProofOfFundsSerializer(serializers.Serializer):
    wallet = serializers.CharField(source="balances.wallet")
    balances = HoldingSerializer(source="balances.holdings", many=True)
    unavailable = UnavailableChainSerializer(
        source="balances.unavailable",
        many=True,
        help_text="configured chains that did not answer; their balances are not counted",
    )
    total_usd = serializers.DecimalField(
        source="balances.total_usd",
        max_digits=TOTAL_DIGITS,
        decimal_places=2,
        help_text="the sum of the priced balances",
    )
    amount_usd = serializers.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=2, allow_null=True
    )
    sufficient = serializers.BooleanField(
        allow_null=True, help_text="total_usd ≥ amount_usd; null when no amount was asked"
    )
    notes = serializers.ListField(child=serializers.CharField(), source="balances.notes")
    checked_at = serializers.DateTimeField(
        source="balances.checked_at", help_text="when the chains were read (cached briefly)"
    )


class ProofOfFundsView(APIView):
    permission_classes = [IsUser]

    @extend_schema(
        operation_id="fabric_proof_of_funds_retrieve",
        summary="A proven wallet's balances on the configured chains, and whether they cover "
        "an amount",
        description="Only for a wallet the caller signed in with or linked (else 403). Native "
        "and ERC-20 balances on every EVM chain configured (SOL on Solana), valued with the "
        "asset registry's prices by asset identity; unpriced balances have `usd: null` and are "
        "not in `total_usd`; a chain that does not answer is listed under `unavailable`.",
        parameters=[
            OpenApiParameter(
                "amount_usd",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="the amount to prove, a money string (e.g. 250000.00)",
            )
        ],
        responses={
            200: ProofOfFundsSerializer,
            **error_responses(400, 401, 403, s403="not one of the caller's wallets, or an API key"),
        },
        tags=["fabric"],
    )
    def get(self, request: AuthenticatedRequest, wallet: str) -> Response:
        query = ProofOfFundsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        proof: ProofOfFunds = proof_of_funds(
            user=request.user, wallet=wallet, amount_usd=query.validated_data.get("amount_usd")
        )
        return Response(ProofOfFundsSerializer(proof).data)
