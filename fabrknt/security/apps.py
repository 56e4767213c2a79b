from __future__ import annotations

from django.apps import AppConfig
from django.core.signals import request_finished


def _clear_request_id(**kwargs) -> None:
    from fabrknt.security.request_id import current_request, current_request_id

    current_request_id.set("-")
    current_request.set(None)


class SecurityConfig(AppConfig):
    name = "fabrknt.security"
    label = "security"
    verbose_name = "Request guards"

    def ready(self) -> None:
        # After Django's own 4xx/5xx log line, which comes after the middleware has returned.
        request_finished.connect(_clear_request_id, dispatch_uid="fabrknt.security.request_id")
