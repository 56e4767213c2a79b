"""Small decorators the pages are built from."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from fabrknt.api.errors import NotFound, PermissionDenied

View = Callable[..., HttpResponseBase]


def refusals_as_pages(view: View) -> View:
    """A service's NotFound or PermissionDenied as Django's 404 or 403 page (the API's
    exception handler does the same for JSON), so views never catch them."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from error
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.detail) from error

    return wrapper


def page_view(view: View) -> View:
    """A page for signed-in users: GET shows it, POST acts (CSRF checked by middleware)."""
    guarded = refusals_as_pages(view)
    signed_in = login_required(guarded, login_url="signin")
    return require_http_methods(["GET", "POST"])(signed_in)


def staff_page_view(view: View) -> View:
    """A page for staff (operators): anyone signed out goes to sign in, as for every page;
    a signed-in user who is not staff gets the staff-only page (403), as the admin does."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_staff:
            return render(request, "accounts/staff_only.html", status=403)
        return view(request, *args, **kwargs)

    return page_view(wrapper)
