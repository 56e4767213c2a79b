"""Swagger UI (drf-spectacular's split view, assets from drf-spectacular-sidecar) under our
Content-Security-Policy: its scripts are same-origin files (the split view serves the
start-up script as one); its page template carries inline <style> blocks, admitted by
their SHA-256 alone rather than by 'unsafe-inline'."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable
from typing import cast

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponseBase
from django.template.backends.django import Template
from django.template.loader import get_template
from drf_spectacular.views import SpectacularSwaggerSplitView

SWAGGER_UI_TEMPLATE = "drf_spectacular/swagger_ui.html"


@functools.cache
def swagger_ui_style_hashes() -> tuple[str, ...]:
    """CSP hashes of the inline <style> blocks of whichever template Django loads, so an
    upgrade or an override keeps working."""
    # The Django template backend's template, the only backend in TEMPLATES.
    template = cast(Template, get_template(SWAGGER_UI_TEMPLATE))
    source = template.template.source
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return tuple(_sha256_source(block) for block in blocks)


def _sha256_source(inline: str) -> str:
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def swagger_ui_view(*, schema_url_name: str) -> Callable[[HttpRequest], HttpResponseBase]:
    """The Swagger UI page and its start-up script, with the style hashes added to the
    policy's style-src."""
    view = SpectacularSwaggerSplitView.as_view(url_name=schema_url_name)
    return csp_update({"style-src": list(swagger_ui_style_hashes())})(view)
