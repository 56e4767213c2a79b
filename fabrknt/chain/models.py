"""What the platform itself put on chains: the contracts it deployed, and the next nonce of
its signer (CHAIN_SIGNER_KEY) per chain."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DeployedContract(models.Model):
    """One deployment of one of our contracts (`contracts/<folder>/<Name>.sol`) on a chain.

    The newest row of a (chain, name) is the contract in use. `bytecode_hash` is the
    keccak of the creation bytecode: `deploy_contracts` does not deploy bytecode already
    recorded on the chain (and still there) again unless forced.
    """

    chain = models.CharField(max_length=64)
    name = models.CharField(max_length=100, help_text="e.g. pulse/FabrkntSBT")
    address = models.CharField(max_length=42)
    bytecode_hash = models.CharField(max_length=66)
    constructor_args = models.JSONField(default=list, blank=True)
    transaction_hash = models.CharField(max_length=66)
    deployer = models.CharField(max_length=42)
    block_number = models.BigIntegerField()
    deployed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "address"], name="deployed_contract_address")
        ]
        indexes = [models.Index(fields=["chain", "name", "-deployed_at"])]
        ordering = ["-deployed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} on {self.chain} at {self.address}"


class SignerNonce(models.Model):
    """The next nonce of our signer on a chain. Sending a transaction locks this row, so
    concurrent tasks (mints, deployments) never sign two transactions with one nonce."""

    chain = models.CharField(max_length=64)
    address = models.CharField(max_length=42)
    next_nonce = models.BigIntegerField(default=0)
    # The last transaction sent with it: a node that does not know it has forgotten it (a
    # development chain restarted empty, a dropped transaction) and its count is taken.
    last_transaction_hash = models.CharField(max_length=66, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "address"], name="signer_nonce_chain_address")
        ]

    def __str__(self) -> str:
        return f"{self.address} on {self.chain}: next nonce {self.next_nonce}"
