"""Request and response shapes of the Accounts API (API.md, "Accounts and wallet sign-in")."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import Role, Scope, WalletKind
from accounts.services.wallets import wallet_address_parse

# Generous for EIP-4361 / SIWS text with resources, far below the 8 KiB body limit's reach.
MESSAGE_MAX = 4096
SIGNATURE_MAX = 2048  # EIP-1271 signatures (multisig) can be longer than 65 bytes


def _utf8(value: str) -> str:
    # JSON may carry lone surrogates; they cannot be signed bytes, so refuse them early.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("Must be valid UTF-8 text.") from None
    return value


class NonceSerializer(serializers.Serializer):
    nonce = serializers.CharField(source="value")
    expires_at = serializers.DateTimeField()


class SignInSerializer(serializers.Serializer):
    # Whitespace is part of the signed text: never trim it.
    message = serializers.CharField(max_length=MESSAGE_MAX, trim_whitespace=False)
    signature = serializers.CharField(max_length=SIGNATURE_MAX, trim_whitespace=False)

    def validate_message(self, value: str) -> str:
        return _utf8(value)

    def validate_signature(self, value: str) -> str:
        return _utf8(value)


class WalletSerializer(serializers.Serializer):
    chain = serializers.CharField(
        help_text="CAIP-2: for an EOA the chain it first signed in on, for a contract "
        "wallet the chain it lives on (the same address elsewhere is another account)"
    )
    address = serializers.CharField()
    kind = serializers.ChoiceField(choices=WalletKind.choices)


class UserOrganizationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    wallets = WalletSerializer(many=True)
    organizations = UserOrganizationSerializer(many=True)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class SignedInSerializer(TokenPairSerializer):
    user = MeSerializer()


class RefreshSerializer(serializers.Serializer):
    # No length cap here: any string that is not our token is a 401, not a 400.
    refresh = serializers.CharField(trim_whitespace=False)


class OrganizationInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class OrganizationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    created_at = serializers.DateTimeField()


class MemberInputSerializer(serializers.Serializer):
    wallet_address = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices)

    def validate_wallet_address(self, value: str):
        parsed = wallet_address_parse(address=value)
        if parsed is None:
            raise serializers.ValidationError("Not an EVM (0x + 40 hex) or base58 Solana address.")
        return parsed


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    wallet_address = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField()


class ApiKeyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices), allow_empty=False, max_length=3
    )


class ApiKeySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class IssuedApiKeySerializer(serializers.Serializer):
    """The only response that carries the secret `key`."""

    id = serializers.UUIDField(source="api_key.id")
    name = serializers.CharField(source="api_key.name")
    key = serializers.CharField()
    prefix = serializers.CharField(source="api_key.prefix")
    scopes = serializers.ListField(
        source="api_key.scopes", child=serializers.ChoiceField(choices=Scope.choices)
    )
    created_at = serializers.DateTimeField(source="api_key.created_at")
