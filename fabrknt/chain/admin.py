from __future__ import annotations

from django.contrib import admin

from fabrknt.admin_base import ReadOnlyAdmin
from fabrknt.chain.models import DeployedContract, SignerNonce


@admin.register(DeployedContract)
class DeployedContractAdmin(ReadOnlyAdmin):
    """Written by `manage.py deploy_contracts` only: operators look."""

    list_display = ["name", "chain", "address", "deployed_at", "block_number", "deployer"]
    list_filter = ["chain", "name"]
    search_fields = ["address", "transaction_hash"]

    deletable = True


@admin.register(SignerNonce)
class SignerNonceAdmin(ReadOnlyAdmin):
    list_display = ["chain", "address", "next_nonce", "last_transaction_hash"]

    deletable = True
