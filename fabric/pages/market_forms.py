"""The marketplace's filters and the seller's buyer-access forms."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from fabric.models import MONEY_DIGITS
from fabrknt.chain.networks import NETWORKS
from fabrknt.pages.forms import ServiceForm


class MarketFilterForm(forms.Form):
    """The grid's GET filters; an invalid one is shown with its error and ignored."""

    blockchain = forms.ChoiceField(
        required=False,
        choices=[("", "Any chain"), *((n.caip2, n.name) for n in NETWORKS if not n.testnet)],
    )
    min_price = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        label="Minimum price (USD)",
    )
    max_price = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        label="Maximum price (USD)",
    )
    min_score = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        label="Minimum Fabrknt score",
    )

    def filters(self) -> dict[str, object]:
        """The valid filters, as `fabric.selectors.market_search` takes them."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class WalletForm(ServiceForm):
    wallet_address = forms.CharField(
        max_length=64,
        label="Wallet address",
        help_text="An EVM address (0x…) or a Solana address.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
