from django.apps import AppConfig
from django.core.signals import request_finished
from django.db.backends.signals import connection_created


class OpsConfig(AppConfig):
    name = "fabrknt.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from fabrknt.ops import checks  # noqa: F401  (registers the system checks)
        from fabrknt.ops.logs import log_context_clear
        from fabrknt.ops.metrics.celery_signals import celery_signals_connect
        from fabrknt.ops.metrics.middleware import query_counter_install

        celery_signals_connect()
        connection_created.connect(query_counter_install, dispatch_uid="metrics.queries")
        # After Django's own 4xx/5xx log line, as the request id (fabrknt.security.apps).
        request_finished.connect(log_context_clear, dispatch_uid="fabrknt.ops.log_context")
