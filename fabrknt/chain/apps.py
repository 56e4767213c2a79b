from django.apps import AppConfig


class ChainConfig(AppConfig):
    name = "fabrknt.chain"
    label = "chain"
    verbose_name = "Chains"
