from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.cache import connect

        connect()  # the signed-in viewer's cache invalidation (accounts/cache.py)
