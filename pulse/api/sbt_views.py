from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def token_metadata(request: HttpRequest, chain: str, address: str, token_id: int) -> HttpResponse:
    raise Http404


def token_image(request: HttpRequest, chain: str, address: str, token_id: int) -> HttpResponse:
    raise Http404
