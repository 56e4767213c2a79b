from __future__ import annotations

from typing import Any

from django import forms

from fabric.models import Offer
from fabric.services.escrow import NATIVE
from fabrknt.chain.networks import chain_name
from fabrknt.pages.forms import ServiceForm

ASKING_PRICE = ""
SWAP_CHOICES = [
    ("", "No asset: escrow the payment alone"),
    ("erc721", "An ERC-721 token"),
    ("ownable", "The ownership of an Ownable contract"),
    ("ownable2step", "The ownership of an Ownable2Step contract"),
]


class EscrowOpenForm(ServiceForm):
    """The buyer's choices for `fabric.services.escrow.escrow_init`."""

    price = forms.ChoiceField(
        label="Price",
        required=False,  # the asking price's choice is the empty one
        help_text="An accepted offer's amount, or the listing's asking price.",
    )
    buyer_wallet = forms.ChoiceField(
        label="Your wallet", help_text="One that signed this listing's NDA: it pays."
    )
    chain = forms.ChoiceField(label="Chain", help_text="Where our escrow contract runs.")
    asset = forms.CharField(
        label="Payment asset",
        initial=NATIVE,
        max_length=64,
        help_text=f"“{NATIVE}” for the chain's coin, or an ERC-20 token's address (e.g. USDC).",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    swap_type = forms.ChoiceField(
        label="The seller's asset",
        choices=SWAP_CHOICES,
        required=False,
        help_text="With an asset, payment and asset change hands in one transaction.",
    )
    swap_address = forms.CharField(
        label="Asset contract address",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    swap_token_id = forms.CharField(label="Token id (ERC-721)", max_length=78, required=False)

    def __init__(
        self,
        *args: Any,
        offers: list[Offer],
        asking_price: str,
        wallets: list[str],
        chains: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._set_choices(
            "price",
            [(str(offer.pk), f"Accepted offer: ${offer.amount_usd:,.2f}") for offer in offers]
            + [(ASKING_PRICE, f"Asking price: ${asking_price}")],
        )
        self._set_choices("buyer_wallet", [(wallet, wallet) for wallet in wallets])
        self._set_choices("chain", [(chain, chain_name(chain)) for chain in chains])

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def swap_asset(self) -> dict[str, str] | None:
        data = self.cleaned_data
        if not data.get("swap_type"):
            return None
        swap = {"type": data["swap_type"], "address": data.get("swap_address", "")}
        if data.get("swap_token_id"):
            swap["token_id"] = data["swap_token_id"]
        return swap
