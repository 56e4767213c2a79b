from django.apps import AppConfig
from django.core.signals import request_finished


class OpsConfig(AppConfig):
    name = "fabrknt.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from fabrknt.ops.logs import log_context_clear

        # After Django's own 4xx/5xx log line, as the request id (fabrknt.security.apps).
        request_finished.connect(log_context_clear, dispatch_uid="fabrknt.ops.log_context")
