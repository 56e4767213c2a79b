"""TRACE's page forms: they parse what a page posts; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from trace.models import Project


class BackfillStartForm(forms.Form):
    contract = forms.ChoiceField(
        required=False,
        label="Contract",
        help_text="Whose deployment block starts it when no block is given.",
    )
    from_block = forms.IntegerField(
        required=False,
        min_value=0,
        label="From block",
        help_text="Empty: the contract's deployment block (needs an archive RPC endpoint).",
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        addresses = [a for a in project.contract_addresses or [] if isinstance(a, str)]
        cast(forms.ChoiceField, self.fields["contract"]).choices = [
            ("", "The earliest of the project's contracts")
        ] + [(address, address) for address in addresses]
