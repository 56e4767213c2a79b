from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.core.signals import request_started

        from accounts.cache import connect
        from accounts.read_ahead import forget

        connect()  # the signed-in viewer's cache invalidation (accounts/cache.py)
        request_started.connect(forget, dispatch_uid="accounts-read-ahead")
