"""`POST /api/v1/escrow/init` and `GET /api/v1/escrow/{id}`: opening an escrow deal and
following it (`fabric.services.escrow`, the status from `fabric.services.escrow_monitor`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabric.chain.escrow import TransactionRequest
from fabric.models import EscrowTransaction
from fabric.selectors import escrow_deal
from fabric.services.escrow import NATIVE, escrow_init, escrow_next_steps
from fabrknt.api.access import access_of
from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsUser
from fabrknt.chain.networks import network_of

# ---- input -------------------------------------------------------------------------------


class SwapAssetSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["erc721", "ownable", "ownable2step"])
    address = serializers.CharField(max_length=64)
    # Text or a number: a uint256 (only an ERC-721 has one).
    token_id = serializers.CharField(max_length=78, required=False)


class EscrowInitSerializer(serializers.Serializer):
    listing_id = serializers.UUIDField()
    buyer_wallet = serializers.CharField(max_length=64)
    amount_usd = serializers.DecimalField(
        max_digits=15, decimal_places=2, min_value=Decimal("0.01")
    )
    chain = serializers.CharField(max_length=64, required=False)
    asset = serializers.CharField(
        max_length=64, required=False, help_text=f"`{NATIVE}` (default) or an ERC-20 address"
    )
    swap_asset = SwapAssetSerializer(required=False)
    offer_id = serializers.UUIDField(required=False)


# ---- output ------------------------------------------------------------------------------


class TransactionSerializer(serializers.Serializer):
    """A transaction for a wallet: eth_sendTransaction's parameters (`value` in wei, as a
    0x hex quantity), with who sends it and which step it is."""

    step = serializers.CharField()
    to = serializers.CharField()
    value = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # Named as eth_sendTransaction names them, which a class attribute cannot be
        # (`from` is a keyword; `data` is the serializer's own property).
        fields = super().get_fields()
        fields["from"] = serializers.CharField(help_text="the wallet that must send it")
        fields["data"] = serializers.CharField(help_text="the call data, 0x hex")
        return fields


def transaction_json(request: TransactionRequest) -> dict[str, str]:
    return {
        "step": request.step,
        "from": request.sender,
        "to": request.to,
        "data": request.data,
        "value": hex(request.value),
    }


class EscrowOpenedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    chain = serializers.CharField()
    escrow_contract_address = serializers.CharField()
    amount_usd = serializers.DecimalField(max_digits=15, decimal_places=2)
    amount = serializers.CharField(help_text="the payment in its smallest unit (wei)")
    payment_token = serializers.CharField(allow_null=True)
    deadline = serializers.DateTimeField()
    deposit = TransactionSerializer()
    approve = TransactionSerializer(required=False, help_text="an ERC-20 payment's allowance")


class EscrowEventSerializer(serializers.Serializer):
    event = serializers.CharField()
    tx_hash = serializers.CharField()
    block_number = serializers.IntegerField()
    at = serializers.DateTimeField(allow_null=True)
    status_after = serializers.CharField()
    explorer_url = serializers.CharField(allow_null=True)


class NextStepSerializer(TransactionSerializer):
    party = serializers.ChoiceField(choices=["buyer", "seller"])

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["label"] = serializers.CharField(help_text="what the step does, for people")
        return fields


class EscrowDetailSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    listing_id = serializers.UUIDField()
    offer_id = serializers.UUIDField(allow_null=True)
    status = serializers.CharField()
    chain = serializers.CharField()
    escrow_contract_address = serializers.CharField()
    deal_id = serializers.CharField(allow_null=True)
    buyer_wallet = serializers.CharField()
    seller_wallet = serializers.CharField()
    amount_usd = serializers.DecimalField(max_digits=15, decimal_places=2)
    amount = serializers.CharField()
    payment_token = serializers.CharField(allow_null=True)
    fee_bps = serializers.IntegerField()
    swap_asset = serializers.JSONField(allow_null=True)
    deadline = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    funded_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    disputed_at = serializers.DateTimeField(allow_null=True)
    transactions = EscrowEventSerializer(many=True)
    next_steps = NextStepSerializer(many=True)


def _deal_fields(escrow: EscrowTransaction) -> dict[str, Any]:
    return {
        "id": str(escrow.pk),
        "status": escrow.status,
        "chain": escrow.chain,
        "escrow_contract_address": escrow.escrow_contract_address,
        "amount_usd": f"{escrow.amount_usd:.2f}",
        "amount": escrow.amount_units,
        "payment_token": escrow.payment_token or None,
        "deadline": serializers.DateTimeField().to_representation(escrow.deadline),
    }


def escrow_detail_json(escrow: EscrowTransaction) -> dict[str, Any]:
    """`GET /api/v1/escrow/{id}`'s answer."""
    network = network_of(escrow.chain)
    time = serializers.DateTimeField()

    def moment(value: dt.datetime | None) -> str | None:
        return None if value is None else time.to_representation(value)

    return {
        **_deal_fields(escrow),
        "listing_id": str(escrow.listing_id),
        "offer_id": str(escrow.offer_id) if escrow.offer_id else None,
        "deal_id": escrow.deal_id,
        "buyer_wallet": escrow.buyer_wallet,
        "seller_wallet": escrow.seller_wallet,
        "fee_bps": escrow.fee_bps,
        "swap_asset": escrow.swap_asset or None,
        "created_at": moment(escrow.created_at),
        "funded_at": moment(escrow.funded_at),
        "completed_at": moment(escrow.completed_at),
        "disputed_at": moment(escrow.disputed_at),
        "transactions": [
            {
                "event": event.event,
                "tx_hash": event.tx_hash,
                "block_number": event.block_number,
                "at": moment(event.occurred_at),
                "status_after": event.status_after,
                "explorer_url": network.transaction_url(event.tx_hash) if network else None,
            }
            for event in escrow.events.order_by("block_number", "log_index")
        ],
        "next_steps": [
            {**transaction_json(step.request), "party": step.party, "label": step.label}
            for step in escrow_next_steps(escrow)
        ],
    }


# ---- views -------------------------------------------------------------------------------


class EscrowInitView(APIView):
    permission_classes = [IsUser]

    @extend_schema(
        operation_id="fabric_escrow_init",
        request=EscrowInitSerializer,
        responses={
            200: EscrowOpenedSerializer,
            201: EscrowOpenedSerializer,
            **error_responses(400, 401, 403, 404, 409, 413, 415, 429),
        },
        description="Open an escrow deal on a listing whose NDA the caller signed, for an "
        "accepted offer's amount (`offer_id`) or the asking price: 201 with the transactions "
        "the buyer's wallet sends (`approve` first for an ERC-20 payment, then `deposit`, "
        "which creates the deal and pays into it); 200 with the existing pending deal on a "
        "repeat. 400 when the chain has no escrow contract, the asset has no price, or the "
        "amount is not the offer's or the asking price; 409 when the seller has no wallet "
        "set or the listing is not for sale.",
        tags=["fabric"],
    )
    def post(self, request: Request) -> Response:
        serializer = EscrowInitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        opening = escrow_init(
            access=access_of(request),
            listing_id=data["listing_id"],
            buyer_wallet=data["buyer_wallet"],
            amount_usd=data["amount_usd"],
            chain=data.get("chain"),
            asset=data.get("asset"),
            swap_asset=data.get("swap_asset"),
            offer_id=data.get("offer_id"),
        )
        body = _deal_fields(opening.escrow)
        *approvals, deposit = opening.transactions
        body["deposit"] = transaction_json(deposit)
        if approvals:
            body["approve"] = transaction_json(approvals[0])
        return Response(body, status=status.HTTP_201_CREATED if opening.created else 200)


class EscrowDetailView(APIView):
    @extend_schema(
        operation_id="fabric_escrow_detail",
        responses={200: EscrowDetailSerializer, **error_responses(401, 404, 429)},
        description="An escrow deal for its buyer or the seller's members: its status as the "
        "contract's events moved it (`pending → funded → released` or `refunded`), every "
        "transaction seen, and the transactions each party may send now (`next_steps`).",
        tags=["fabric"],
    )
    def get(self, request: Request, escrow_id: str) -> Response:
        escrow = escrow_deal(escrow_id=escrow_id, access=access_of(request))
        return Response(escrow_detail_json(escrow))
