"""The project pages' forms: they parse what was typed; `trace.services.projects` checks
the chain and the addresses and decides (its refusals are shown on the fields)."""

from __future__ import annotations

from typing import Any

from django import forms

from fabrknt.chain.networks import NETWORKS
from fabrknt.pages.forms import ServiceForm, TextListField
from trace.services.projects import MAX_ADDRESSES

NAME_MAX = 200


def _chain_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The picker: human names, the CAIP-2 id underneath, mainnets before testnets."""
    groups: dict[str, list[tuple[str, str]]] = {"Mainnets": [], "Testnets": []}
    for network in NETWORKS:
        group = "Testnets" if network.testnet else "Mainnets"
        groups[group].append((network.caip2, f"{network.name} — {network.caip2}"))
    return list(groups.items())


class AddressListField(TextListField):
    """Addresses one per line (commas and spaces also separate them), as a list."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_items=MAX_ADDRESSES, noun="addresses", **kwargs)


def _name_field() -> forms.CharField:
    return forms.CharField(
        max_length=NAME_MAX, help_text="The product, as your team calls it.", strip=True
    )


def _contracts_field() -> AddressListField:
    return AddressListField(
        label="Contract addresses",
        required=False,
        help_text="The contracts (or Solana programs) whose activity TRACE follows, one per "
        "line. EVM addresses in any case; they are stored checksummed.",
    )


def _treasury_field() -> AddressListField:
    return AddressListField(
        label="Treasury addresses",
        required=False,
        help_text="Wallets whose incoming payments count as the project's revenue, one per line.",
    )


class ProjectCreateForm(ServiceForm):
    # Any organization id is accepted: one the caller may not write to reaches the
    # service's access check and is refused there (403), as in the API.
    organization = forms.UUIDField(widget=forms.Select)
    name = _name_field()
    chain = forms.ChoiceField(
        choices=_chain_choices,
        help_text="Stored as its CAIP-2 id (shown after the name). Fixed once created.",
    )
    contract_addresses = _contracts_field()
    treasury_addresses = _treasury_field()

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].widget.choices = organizations


class ProjectEditForm(ServiceForm):
    name = _name_field()
    contract_addresses = _contracts_field()
    treasury_addresses = _treasury_field()


class ProjectArchiveForm(ServiceForm):
    """The confirm step: nothing to fill in."""


class ProjectRecomputeForm(ServiceForm):
    """The "recompute metrics" button: nothing to fill in."""
