from django.apps import AppConfig


class TraceConfig(AppConfig):
    name = "trace"
    verbose_name = "TRACE"

    def ready(self) -> None:
        from trace.cache import connect

        connect()  # the read cache's invalidation (trace/cache.py)
