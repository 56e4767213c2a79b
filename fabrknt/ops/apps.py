from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "fabrknt.ops"
    label = "ops"
    verbose_name = "Operations"
