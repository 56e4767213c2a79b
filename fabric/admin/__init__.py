"""FABRIC's back office: one module per area (listings, escrow, data room, revenue...),
each registering its models with the admin site."""

from fabric.admin import dataroom, escrow, listings, offers, revenue  # noqa: F401  (each registers its models)
