from django.apps import AppConfig


class PulseConfig(AppConfig):
    name = "pulse"
    verbose_name = "PULSE"

    def ready(self) -> None:
        from fabrknt.chain.deployments import deployable_register
        from pulse.services.sbt_contract import SBT_DEPLOYABLE

        deployable_register(SBT_DEPLOYABLE)
        import pulse.sbt_tasks  # noqa: F401  (registers the mint task)
        from pulse.cache import connect

        connect()  # the read cache's invalidation (pulse/cache.py)
