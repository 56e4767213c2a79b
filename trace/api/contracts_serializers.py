"""Serializers of the contract-control endpoints (input and output apart)."""

from __future__ import annotations

from rest_framework import serializers

from trace.models import ControlMethod


class VerifyMessageSerializer(serializers.Serializer):
    message = serializers.CharField(
        help_text="The text to sign: names the organization (id and name), the project, the "
        "chain (CAIP-2), the contract, a single-use nonce, the domain and the expiry"
    )
    expires_at = serializers.DateTimeField()


class VerifyInSerializer(serializers.Serializer):
    message = serializers.CharField(
        max_length=4000, trim_whitespace=False, help_text="verify-message's text, unchanged"
    )
    signature = serializers.CharField(
        max_length=9000,
        help_text="EVM: 0x hex, EIP-191 personal_sign by the contract's owner() or deployer, "
        "or a signature the owner contract accepts (EIP-1271). Solana: base58 Ed25519 by the "
        "program's upgrade authority",
    )


class VerificationSerializer(serializers.Serializer):
    control_verified = serializers.BooleanField(default=True)
    chain = serializers.CharField()
    address = serializers.CharField(source="contract_address")
    method = serializers.ChoiceField(choices=ControlMethod.choices)
    signer = serializers.CharField(help_text="the address whose signature proved control")
    verified_at = serializers.DateTimeField()
