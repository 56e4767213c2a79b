"""The offers and messages pages' forms: they parse what was typed; fabric.services
decide (their refusals are shown on the fields)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from fabric.models import MONEY_DIGITS
from fabric.services.messages import BODY_MAX
from fabric.services.offers import TERMS_MAX
from fabrknt.pages.forms import ServiceForm


def _amount(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )


def _terms(help_text: str) -> forms.CharField:
    return forms.CharField(
        label="Terms",
        required=False,
        max_length=TERMS_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OfferMakeForm(ServiceForm):
    buyer_wallet = forms.ChoiceField(
        label="Paying wallet", help_text="One of your wallets that signed this listing's NDA."
    )
    amount_usd = _amount("Amount (USD)")
    terms = _terms("Optional: what comes with the price (handover, vesting, conditions).")
    expires_at = forms.DateTimeField(
        label="Expires at (UTC)",
        required=False,
        help_text="Optional: the offer lapses after this time.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, wallets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["buyer_wallet"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(wallet, wallet) for wallet in wallets]


class OfferCounterForm(ServiceForm):
    amount_usd = _amount("Counter amount (USD)")
    terms = _terms("The terms you propose with it.")


class MessageForm(ServiceForm):
    body = forms.CharField(
        label="Message",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Up to {BODY_MAX} characters. Covered by the NDA.",
    )
