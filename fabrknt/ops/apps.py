from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "fabrknt.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from fabrknt.ops import checks  # noqa: F401  (registers the system checks)
