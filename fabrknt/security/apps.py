from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "fabrknt.security"
    label = "security"
    verbose_name = "Request guards"
