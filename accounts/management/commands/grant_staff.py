"""`manage.py grant_staff WALLET [--chain CAIP2] [--superuser]`: let a wallet's user into
the admin."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import wallet_by_address
from accounts.services.users import user_grant_staff


class Command(BaseCommand):
    help = "Make the user of a wallet staff (admin access); --superuser grants everything."

    def add_arguments(self, parser) -> None:
        parser.add_argument("wallet", help="EVM address (any case) or base58 Solana address")
        parser.add_argument(
            "--chain",
            help="a contract wallet's chain (CAIP-2, e.g. eip155:8453); without it, the EOA",
        )
        parser.add_argument("--superuser", action="store_true", help="also make superuser")

    def handle(self, *args, wallet: str, chain: str | None, superuser: bool, **options) -> None:
        found = wallet_by_address(address=wallet, chain=chain)
        if found is None:
            raise CommandError(
                f"No user has signed in with wallet {wallet!r}; sign in with it first."
            )
        user = user_grant_staff(user=found.user, superuser=superuser)
        role = "superuser" if user.is_superuser else "staff"
        self.stdout.write(self.style.SUCCESS(f"{user.username} ({found.address}) is now {role}."))
