"""Forms that call services."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fabrknt.api.errors import NotFound, PermissionDenied, ServiceError
from fabrknt.pages.htmx import is_validation

T = TypeVar("T")
_SEPARATORS = re.compile(r"[\s,]+")


class TextListField(forms.CharField):
    """Items typed one per line (commas and spaces also separate them), as a list of at
    most `max_items` (addresses, repositories…); the services check each item."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"})

    def __init__(self, *, max_items: int, noun: str, **kwargs: Any) -> None:
        self.max_items, self.noun = max_items, noun
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [item for item in _SEPARATORS.split(text) if item]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > self.max_items:
            raise forms.ValidationError(f"At most {self.max_items} {self.noun}.")

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


class ServiceForm(forms.Form):
    """A form whose submission is one service call.

    `submit(action)` validates, then runs `action`; a refusal (a `ServiceError`, or a
    Django `ValidationError` from the services that raise those) becomes the form's
    errors, and `status` the status the page answers with (400 invalid, 409 conflict).
    NotFound and PermissionDenied are not the form's business: they propagate to
    `refusals_as_pages` (404 and 403 pages).
    """

    status = 200

    def submit(self, action: Callable[[], T]) -> T | None:
        if not self.is_valid():
            self.status = 400
            return None
        try:
            return action()
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as error:
            self.status = error.status
            if error.fields:
                for field, messages in error.fields.items():
                    self.add_error(field if field in self.fields else None, messages)
            else:
                self.add_error(None, error.detail)
        except ValidationError as error:
            self.status = 400
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
            else:
                self.add_error(None, error.messages)
        return None


class ConfirmForm(ServiceForm):
    """The "yes, do it" of a confirm page or dialog: nothing to fill in, only the CSRF
    token."""


def form_page(
    request: HttpRequest, template: str, context: dict[str, object], form: ServiceForm
) -> HttpResponse:
    """A page with a form: on a refused POST, with the form's errors and status (an inline
    validation request is a look, not a refusal: 200)."""
    status = 200 if is_validation(request) else form.status
    return render(request, template, {**context, "form": form}, status=status)
