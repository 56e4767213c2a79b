from django.apps import AppConfig


class FabricConfig(AppConfig):
    name = "fabric"
    verbose_name = "FABRIC"

    def ready(self) -> None:
        import fabric.suite_tasks  # noqa: F401  (registers the score tasks)
