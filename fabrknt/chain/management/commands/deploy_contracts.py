"""`manage.py deploy_contracts --chain CAIP2 [--force] [--only NAME]`: deploy our contracts
with CHAIN_SIGNER_KEY on a chain of CHAIN_RPC_URLS and record them (safe to re-run)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from web3.exceptions import Web3Exception

from fabrknt.chain.deployments import contract_deploy, deployables
from fabrknt.chain.evm import ChainNotConfigured, is_evm_chain
from fabrknt.chain.signer import TransactionReverted


class Command(BaseCommand):
    help = "Deploy our contracts on a chain and record their addresses (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chain", required=True, help="CAIP-2 EVM chain, e.g. eip155:8453")
        parser.add_argument(
            "--force", action="store_true", help="deploy again even if already deployed"
        )
        parser.add_argument("--only", help="one contract, e.g. pulse/FabrkntSBT")

    def handle(
        self, *args: object, chain: str, force: bool, only: str | None, **options: object
    ) -> None:
        if not is_evm_chain(chain):
            raise CommandError(f"{chain} is not an EVM chain (CAIP-2 eip155:<id>)")
        targets = [item for item in deployables() if only in (None, item.name)]
        if not targets:
            raise CommandError(f"no contract named {only}")
        for deployable in targets:
            try:
                result = contract_deploy(chain=chain, deployable=deployable, force=force)
            except (ChainNotConfigured, ImproperlyConfigured, TransactionReverted) as error:
                raise CommandError(f"{deployable.name}: {error}") from error
            except (Web3Exception, OSError) as error:
                message = f"{deployable.name}: the chain's endpoint failed: {error}"
                raise CommandError(message) from error
            contract = result.contract
            verb = "deployed" if result.deployed else "already deployed"
            self.stdout.write(f"{contract.name} {verb} on {chain} at {contract.address}")
