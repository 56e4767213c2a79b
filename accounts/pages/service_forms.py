"""Django forms whose submission is a service call: a refusal (a ServiceError) becomes the
form's errors, shown on the page the form came from, instead of an API error body."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404

from fabrknt.api.errors import ServiceError

T = TypeVar("T")


class ServiceForm(forms.Form):
    # The status the page is answered with when the service refused (400 for field errors).
    refusal_status: int = 400

    def submit(self, call: Callable[[], T]) -> T | None:
        """`call()` once the form is valid; None when the form or the service refused.

        A service's NotFound stays a 404 page: what the caller may not see stays unseen."""
        if not self.is_valid():
            return None
        try:
            return call()
        except ServiceError as refusal:
            if refusal.status == 404:
                raise Http404(refusal.detail) from None
            self.refusal_status = refusal.status
            for field, messages in (refusal.fields or {NON_FIELD_ERRORS: [refusal.detail]}).items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return None
