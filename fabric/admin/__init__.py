"""FABRIC's back office: one module per area (listings, escrow, data room, revenue...),
each registering its models with the admin site."""

from fabric.admin import escrow  # noqa: F401  (registers the escrow's admin)
