"""The campaign pages' forms. They parse and check input; the campaign services decide."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from django import forms

from fabrknt.pages.forms import ServiceForm
from trace.models import AttributionModel, CampaignStatus, Project
from trace.services.campaigns import MAX_WINDOW_DAYS


class CampaignForm(ServiceForm):
    """Create or edit a campaign; the project is chosen among the organization's."""

    name = forms.CharField(max_length=200)
    landing_url = forms.CharField(
        max_length=2048,
        label="Landing URL",
        help_text="Where the tracking link sends visitors (http or https). Its own utm_* "
        "parameters are kept; the link's other utm_* parameters are added.",
        widget=forms.URLInput(attrs={"spellcheck": "false"}),
    )
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(),
        required=False,
        empty_label="No project",
        help_text="The project whose on-chain activity counts as conversions.",
    )
    target_contract = forms.CharField(
        max_length=100,
        required=False,
        help_text="Only activity on this contract of the project converts (optional).",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    budget_usd = forms.DecimalField(
        label="Budget (USD)", min_value=0, max_digits=14, decimal_places=2, initial=0
    )
    goal = forms.CharField(max_length=500, required=False)
    attribution_model = forms.ChoiceField(
        choices=AttributionModel.choices,
        initial=AttributionModel.LAST_CLICK,
        help_text="Which click gets the credit when a wallet came through several: the "
        "last, the first, or all of them in equal shares (linear).",
    )
    attribution_window_days = forms.IntegerField(
        label="Attribution window (days)",
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        initial=30,
        help_text="How long after a click a wallet's activity still counts for it.",
    )

    def __init__(self, *args: Any, organization_id: uuid.UUID, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project_field: forms.ModelChoiceField = self.fields["project"]  # type: ignore[assignment]
        project_field.queryset = Project.objects.filter(organization_id=organization_id)


class CampaignStatusForm(ServiceForm):
    """Pause or resume (archiving has its own confirm step). Not `status`: a ServiceForm's
    `status` is the page's."""

    campaign_status = forms.ChoiceField(
        choices=[(CampaignStatus.ACTIVE, "Resume"), (CampaignStatus.PAUSED, "Pause")]
    )


class SnippetKey(NamedTuple):
    """A publishable ingest key as the snippet's picker offers it (public by design)."""

    name: str
    publishable_key: str


class SnippetKeyForm(forms.Form):
    """The publishable ingest key the snippet on the campaign page is shown with, one of
    `keys` (read with the page: the choices and the check of `?key=` need no query)."""

    key = forms.ChoiceField(
        label="Ingest key",
        # Not the default, which repeats the value: a key of the URL is never shown.
        error_messages={"invalid_choice": "That is not one of this organization's ingest keys."},
    )

    def __init__(self, *args: Any, keys: Sequence[SnippetKey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key_field: forms.ChoiceField = self.fields["key"]  # type: ignore[assignment]
        key_field.choices = [
            (key.publishable_key, f"{key.name} ({key.publishable_key[:16]}…)") for key in keys
        ]
