"""Chains on pages: `{{ project.chain|chain_name }}`, and explorer links for addresses and
transactions (`{{ address|address_url:project.chain }}`, `{{ hash|transaction_url:chain }}`),
all from the one table in `fabrknt.chain.networks`; "" for a chain without an explorer, so
templates show the bare value."""

from __future__ import annotations

from django import template

from fabrknt.chain.networks import chain_name as _chain_name
from fabrknt.chain.networks import network_of

register = template.Library()


@register.filter
def chain_name(chain: str) -> str:
    return _chain_name(chain)


@register.filter
def address_url(address: str, chain: str) -> str:
    network = network_of(chain)
    return network.address_url(address) if network and address else ""


@register.filter
def transaction_url(transaction_hash: str, chain: str) -> str:
    network = network_of(chain)
    return network.transaction_url(transaction_hash) if network and transaction_hash else ""
