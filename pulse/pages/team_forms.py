"""The team pages' forms: they parse what was typed; pulse.services decide (their
refusals are shown on the fields)."""

from __future__ import annotations

from typing import Any

from django import forms

from fabrknt.pages.forms import ConfirmForm, ServiceForm, TextListField
from pulse.services.teams import MAX_REPOSITORIES, TEAM_NAME_MAX


class RepositoryListField(TextListField):
    """`owner/repo` names, one per line (commas and spaces also separate them)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_items=MAX_REPOSITORIES, noun="repositories", **kwargs)
        self.widget.attrs["placeholder"] = "octo-org/app"


class TeamCreateForm(ServiceForm):
    organization = forms.UUIDField(widget=forms.Select)
    team_name = forms.CharField(
        label="Team name",
        max_length=TEAM_NAME_MAX,
        strip=True,
        help_text="As your team calls itself.",
    )
    github_repos = RepositoryListField(
        label="GitHub repositories",
        required=False,
        help_text="owner/repo, one per line. Their activity counts as self-reported until you "
        "install our GitHub App on them.",
    )
    discord_guild_id = forms.CharField(
        label="Discord server id",
        required=False,
        max_length=32,
        help_text="Optional: Discord's server id (Server settings → Widget, or Copy Server ID).",
    )

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field.widget, forms.Select)
        field.widget.choices = organizations


class RepositoriesAddForm(ServiceForm):
    github_repos = RepositoryListField(label="Repositories to add")


class ContributorAddForm(ServiceForm):
    wallet_address = forms.CharField(
        label="Wallet address",
        max_length=100,
        help_text="EVM (0x…) or Solana. Their tokens are minted to it.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    github_username = forms.CharField(
        label="GitHub username",
        max_length=40,
        required=False,
        help_text="Asserted by you until they link it themselves.",
    )
    discord_id = forms.CharField(label="Discord user id", max_length=32, required=False)


class SecretRotateForm(ConfirmForm):
    pass
