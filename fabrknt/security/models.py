"""IP allow and block rules that operators edit in the admin."""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q


def validate_network(value: str) -> None:
    """An IPv4/IPv6 address or CIDR network; host bits set is refused as a likely typo."""
    try:
        ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as error:
        raise ValidationError(f"{value!r} is not an IP network: {error}") from error


def normalize_network(value: str) -> str:
    """The canonical spelling: "10.0.0.1" -> "10.0.0.1/32", "2001:DB8::/32" -> "2001:db8::/32"."""
    return str(ipaddress.ip_network(value.strip(), strict=True))


class IpRule(models.Model):
    """A network that is allowed through or blocked. An allow rule wins over a block rule, so
    an operator can block a whole range and still let one office address in."""

    class Action(models.TextChoices):
        ALLOW = "allow", "Allow"
        BLOCK = "block", "Block"

    cidr = models.CharField(
        "network",
        max_length=64,
        validators=[validate_network],
        help_text="An address (203.0.113.7) or a CIDR network (203.0.113.0/24, 2001:db8::/32).",
    )
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.BLOCK)
    note = models.CharField(max_length=200, blank=True, help_text="Why this rule exists.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "IP rule"
        ordering = ["action", "cidr"]
        constraints = [
            models.UniqueConstraint(fields=["cidr", "action"], name="iprule_unique_cidr_action"),
            models.CheckConstraint(
                condition=Q(action__in=["allow", "block"]), name="iprule_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.cidr}"

    def save(self, *args, **kwargs) -> None:
        validate_network(self.cidr)
        self.cidr = normalize_network(self.cidr)
        super().save(*args, **kwargs)
        _invalidate_after_commit()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        _invalidate_after_commit()
        return result


def _invalidate_after_commit() -> None:
    # Dropped now and again after the commit, so a request racing the transaction cannot
    # re-cache the old rule set for the cache's lifetime.
    from fabrknt.security.selectors import ip_rules_invalidate

    ip_rules_invalidate()
    transaction.on_commit(ip_rules_invalidate)
