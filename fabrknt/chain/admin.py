from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fabrknt.chain.models import DeployedContract, SignerNonce


# ModelAdmin is generic for mypy only (not subscriptable at run time).
@admin.register(DeployedContract)
class DeployedContractAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Written by `manage.py deploy_contracts` only: operators look."""

    list_display = ["name", "chain", "address", "deployed_at", "block_number", "deployer"]
    list_filter = ["chain", "name"]
    search_fields = ["address", "transaction_hash"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SignerNonce)
class SignerNonceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["chain", "address", "next_nonce", "last_transaction_hash"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
