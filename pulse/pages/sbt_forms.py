from __future__ import annotations

from typing import Any

from django import forms

from fabrknt.pages.forms import ServiceForm
from pulse.models import Milestone


class SbtRequestForm(ServiceForm):
    milestone = forms.ChoiceField(
        choices=Milestone.choices,
        help_text="A met milestone is minted to the contributor's wallet as a soulbound token.",
    )

    def __init__(self, *args: Any, milestones: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["milestone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(value, Milestone(value).label) for value in milestones]
