"""IP allow and block lists in the back office."""

from __future__ import annotations

from django.contrib import admin, messages

from fabrknt.security.models import IpRule
from fabrknt.security.services import ip_rules_delete, ip_rules_set_enabled


@admin.register(IpRule)
class IpRuleAdmin(admin.ModelAdmin):
    list_display = ("cidr", "action", "enabled", "note", "created_at")
    list_filter = ("action", "enabled")
    search_fields = ("cidr", "note")
    readonly_fields = ("created_at",)
    actions = ("enable_rules", "disable_rules")

    def delete_queryset(self, request, queryset) -> None:
        # The bulk "delete selected" action bypasses IpRule.delete(); the service drops the
        # cached rule set too.
        ip_rules_delete(rules=queryset)

    @admin.action(description="Enable selected rules", permissions=["change"])
    def enable_rules(self, request, queryset) -> None:
        changed = ip_rules_set_enabled(rules=queryset, enabled=True)
        self.message_user(request, f"{changed} rule(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable selected rules", permissions=["change"])
    def disable_rules(self, request, queryset) -> None:
        changed = ip_rules_set_enabled(rules=queryset, enabled=False)
        self.message_user(request, f"{changed} rule(s) disabled.", messages.SUCCESS)
