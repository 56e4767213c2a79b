from django.apps import AppConfig


class FabricConfig(AppConfig):
    name = "fabric"
    verbose_name = "FABRIC"

    def ready(self) -> None:
        from fabric.chain.escrow import ESCROW_DEPLOYABLE
        from fabrknt.chain.deployments import deployable_register

        deployable_register(ESCROW_DEPLOYABLE)

        from fabric.cache import connect

        connect()  # the read cache's invalidation (fabric/cache.py)
