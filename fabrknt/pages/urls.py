"""Page URLs reversed once per process instead of once per `{% url %}` a render.

`reverse()` walks the URL patterns for every call (10–30 µs each); a page's header and
its per-row links called it 25 times a render. The URL of a name without arguments, and
the two halves around the id of a name that takes one UUID (`<uuid:...>`), depend only on
the URLconf and the script prefix, so they are kept per (name, URLconf, prefix): a
request under another prefix or URLconf (a test's override) gets its own.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

# Any UUID: its text marks where the id goes in the reversed URL.
_MARK = uuid.UUID("00000000-0000-4000-8000-0000000d0000")


@functools.lru_cache(maxsize=512)
def _fixed(name: str, urlconf: Any, prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


@functools.lru_cache(maxsize=512)
def _around_id(name: str, urlconf: Any, prefix: str) -> tuple[str, str]:
    before, mark, after = reverse(name, urlconf=urlconf, args=[_MARK]).partition(str(_MARK))
    if not mark:
        raise ValueError(f"{name} does not take one UUID")
    return before, after


def fixed_url(name: str) -> str:
    """reverse(name): a name that takes no argument."""
    return _fixed(name, get_urlconf(), get_script_prefix())


def id_url(name: str, pk: uuid.UUID | str) -> str:
    """reverse(name, args=[pk]) for a name whose one argument is a UUID."""
    before, after = _around_id(name, get_urlconf(), get_script_prefix())
    return f"{before}{uuid.UUID(str(pk)) if not isinstance(pk, uuid.UUID) else pk}{after}"


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _fixed.cache_clear()
        _around_id.cache_clear()
