"""The accounts pages' forms. They parse and check input; the services decide and act."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from accounts.models import DAILY_REQUEST_QUOTA_MAX, AuditAction, Membership, Role, Scope
from accounts.selectors import AuditFilters
from accounts.services.wallets import WalletAddress, wallet_address_parse
from fabrknt.pages.forms import ServiceForm

NAME_MAX = 200


class OrganizationForm(ServiceForm):
    name = forms.CharField(
        max_length=NAME_MAX,
        help_text="Your team or company, as your teammates know it.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


def _offer_roles(field: forms.Field, *, caller_role: str | None) -> None:
    """Show only the roles the caller may grant. The field still accepts every role, so a
    forged one reaches the service and is refused there (403), as in the API."""
    grantable = [
        (value, label)
        for value, label in Role.choices
        if value != Role.OWNER or caller_role == Role.OWNER
    ]
    field.widget.choices = grantable


class MemberAddForm(ServiceForm):
    wallet_address = forms.CharField(
        max_length=100,
        label="Wallet address",
        help_text="An EVM (0x…) or Solana address. They sign in with that wallet to join.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args: Any, caller_role: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_roles(self.fields["role"], caller_role=caller_role)

    def clean_wallet_address(self) -> WalletAddress:
        parsed = wallet_address_parse(address=self.cleaned_data["wallet_address"])
        if parsed is None:
            raise forms.ValidationError("Not an EVM (0x + 40 hex) or base58 Solana address.")
        return parsed


class MemberRoleForm(ServiceForm):
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(
        self, *args: Any, membership: Membership, caller_role: str | None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {"role": membership.role})
        kwargs.setdefault("prefix", f"member-{membership.pk}")
        super().__init__(*args, **kwargs)
        self.membership = membership
        _offer_roles(self.fields["role"], caller_role=caller_role)


SCOPE_HELP: dict[str, str] = {
    Scope.INGEST: "ingest — the page snippet sends clicks and wallet links (publishable)",
    Scope.READ: "read — servers read projects, campaigns and metrics (secret)",
    Scope.WRITE: "write — servers create and change things, report conversions (secret)",
}


class ApiKeyForm(ServiceForm):
    name = forms.CharField(max_length=100, help_text="Where the key is used, e.g. “Landing site”.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope, SCOPE_HELP[scope]) for scope in Scope.values],
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "A key with only ingest is publishable: it sits in your pages and you can see it "
            "again. Any read or write scope makes it secret: it is shown once."
        ),
    )


class DailyQuotaForm(ServiceForm):
    daily_request_quota = forms.IntegerField(
        min_value=1,
        max_value=DAILY_REQUEST_QUOTA_MAX,
        label="Requests a day for each read or write key",
        help_text=(
            "Counted per key from 00:00 UTC; a key over it is answered 429 until the next "
            "day. Ingest keys are not counted: they keep their per-minute limit."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class DeleteOrganizationForm(ServiceForm):
    confirm_name = forms.CharField(
        max_length=NAME_MAX, label="Type the organization's name to confirm"
    )

    def __init__(self, *args: Any, organization_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization_name = organization_name

    def clean_confirm_name(self) -> str:
        value: str = self.cleaned_data["confirm_name"]
        if value.strip() != self.organization_name:
            raise forms.ValidationError("That is not this organization's name.")
        return value


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditAction.choices], required=False)
    actor = forms.TypedChoiceField(required=False, coerce=uuid.UUID, empty_value=None, label="Who")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = self.fields["actor"]
        assert isinstance(actor, forms.TypedChoiceField)
        actor.choices = [("", "Anyone"), *members]

    def filters(self) -> AuditFilters:
        """The valid filters; an invalid one is ignored (the form shows why)."""
        if not self.is_bound:
            return AuditFilters()
        if not self.is_valid():
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        else:
            data = self.cleaned_data
        return AuditFilters(
            action=data.get("action") or "",
            actor_id=data.get("actor"),
            since=data.get("since"),
            until=data.get("until"),
        )
