from __future__ import annotations

from pulse.tests.oauth_provider import oauth_provider

__all__ = ["oauth_provider"]
