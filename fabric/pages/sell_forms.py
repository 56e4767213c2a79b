"""The seller's forms: they parse what was typed; fabric.services.listings decides (its
refusals are shown on the fields)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from accounts.models import Membership
from fabric.models import AssetType, Listing, Visibility
from fabric.services.listings import (
    ASSET_IDENTIFIER_MAX,
    DESCRIPTION_MAX,
    NDA_TEXT_MAX,
    TITLE_MAX,
)
from fabrknt.chain.networks import NETWORKS
from fabrknt.pages.forms import ConfirmForm, ServiceForm
from pulse.models import Team
from trace.models import Project

CHAINS = [(network.caip2, network.name) for network in NETWORKS]
VISIBILITY_HELP = {
    Visibility.PUBLIC: "Public: anyone sees the teaser, the score and the assets; the data "
    "room and revenue detail after signing the NDA.",
    Visibility.NDA: "NDA: anyone sees the teaser and the score; the assets, revenue detail "
    "and data room after signing the NDA.",
    Visibility.PRIVATE: "Private: only the wallets you invite.",
}
_PLAIN = {"spellcheck": "false", "autocomplete": "off"}


def team_choices(teams: Iterable[Team], *, grouped: bool) -> list[Any]:
    return _choices(
        "No PULSE team", ((t.organization.name, t.pulse_id, t.team_name) for t in teams), grouped
    )


def project_choices(projects: Iterable[Project], *, grouped: bool) -> list[Any]:
    return _choices(
        "No TRACE project", ((p.organization.name, str(p.pk), p.name) for p in projects), grouped
    )


def _choices(none: str, rows: Iterable[tuple[str, str, str]], grouped: bool) -> list[Any]:
    """Options, grouped by organization when the seller has several (each listing links
    its own organization's only)."""
    choices: list[Any] = [("", none)]
    if not grouped:
        return choices + [(value, label) for _, value, label in rows]
    groups: dict[str, list[tuple[str, str]]] = {}
    for organization, value, label in rows:
        groups.setdefault(organization, []).append((value, label))
    return choices + list(groups.items())


class LinksForm(ServiceForm):
    """Step 1: the organization that sells, and the evidence it links."""

    organization = forms.UUIDField(widget=forms.Select, label="Organization that sells")
    trace_project = forms.ChoiceField(
        label="TRACE project",
        required=False,
        help_text="Its growth certificate becomes the growth part of the Fabrknt score.",
    )
    pulse_team = forms.ChoiceField(
        label="PULSE team",
        required=False,
        help_text="Its vitality becomes the team part of the Fabrknt score.",
    )

    def __init__(
        self,
        *args: Any,
        memberships: list[Membership],
        teams: list[Team],
        projects: list[Project],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        grouped = len(memberships) > 1
        widget = self.fields["organization"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [(str(m.organization_id), m.organization.name) for m in memberships]
        self.fields["trace_project"].choices = project_choices(projects, grouped=grouped)  # type: ignore[attr-defined]
        self.fields["pulse_team"].choices = team_choices(teams, grouped=grouped)  # type: ignore[attr-defined]


class DescribeForm(ServiceForm):
    """Step 2 (and the edit page): what a buyer reads, and the seller's settings."""

    title = forms.CharField(max_length=TITLE_MAX, help_text="The project's name and what it does.")
    description = forms.CharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="The teaser every buyer reads: keep confidential details for the data room.",
    )
    asking_price_usd = forms.DecimalField(
        label="Asking price (USD)", min_value=0, max_digits=15, decimal_places=2
    )
    blockchain = forms.ChoiceField(label="Chain", choices=CHAINS)
    visibility = forms.ChoiceField(
        choices=[
            (Visibility.PUBLIC, "Public"),
            (Visibility.NDA, "NDA"),
            (Visibility.PRIVATE, "Private (invited wallets)"),
        ],
        initial=Visibility.NDA,
        help_text=" ".join(VISIBILITY_HELP.values()),
    )
    seller_wallet = forms.CharField(
        label="Seller wallet",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs=_PLAIN),
        help_text="The address on that chain the escrow pays you at closing (or set it later).",
    )
    nda_text = forms.CharField(
        label="NDA text",
        max_length=NDA_TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: your own NDA. Empty: the platform's standard NDA. Changing it "
        "later asks buyers to sign again.",
    )


class EditForm(DescribeForm):
    """The seller's edit: the description and the links, in the listing's organization."""

    trace_project = forms.ChoiceField(label="TRACE project", required=False)
    pulse_team = forms.ChoiceField(label="PULSE team", required=False)

    def __init__(
        self, *args: Any, teams: list[Team], projects: list[Project], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trace_project"].choices = project_choices(projects, grouped=False)  # type: ignore[attr-defined]
        self.fields["pulse_team"].choices = team_choices(teams, grouped=False)  # type: ignore[attr-defined]

    @staticmethod
    def initial_of(listing: Listing) -> dict[str, Any]:
        return {
            "title": listing.title,
            "description": listing.description,
            "asking_price_usd": listing.asking_price_usd,
            "blockchain": listing.blockchain,
            "visibility": listing.visibility,
            "seller_wallet": listing.seller_wallet,
            "nda_text": listing.nda_text,
            "trace_project": str(listing.trace_project_id or ""),
            "pulse_team": listing.pulse_team.pulse_id if listing.pulse_team else "",
        }


class AssetForm(ServiceForm):
    asset_type = forms.ChoiceField(label="Type", choices=AssetType.choices)
    chain = forms.ChoiceField(
        choices=[("", "Not on a chain"), *CHAINS],
        required=False,
        help_text="Required for contracts, tokens, NFTs and treasuries.",
    )
    asset_identifier = forms.CharField(
        label="Address or name",
        max_length=ASSET_IDENTIFIER_MAX,
        widget=forms.TextInput(attrs=_PLAIN),
        help_text="The contract, token, NFT collection or treasury address; else the domain, "
        "repository or account.",
    )
    label = forms.CharField(
        max_length=100, required=False, help_text="Optional: what it is, for the buyer."
    )


class PublishForm(ConfirmForm):
    pass


class WithdrawForm(ConfirmForm):
    pass


class ReopenForm(ConfirmForm):
    pass


class AssetRemoveForm(ConfirmForm):
    pass
