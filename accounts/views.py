"""The web shell's own pages: the landing page, wallet sign-in and sign-out.

Signing in happens in the browser (static/js/signin.js) against the JSON API, which also
opens the Django session; these views only render pages and close the session.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

# Where a fresh sign-in lands when the page did not ask for anywhere else.
DEFAULT_AFTER_SIGN_IN = "/trace/"


def _local_path(candidate: str | None) -> str | None:
    """`candidate` if it is a path on this site, else None: `?next=` must not redirect away.

    Django's check refuses other hosts and schemes (including `//host` and `/\\host`);
    we also insist on a leading slash so that only site paths, never relative or
    host-less URLs such as `javascript:` tricks, reach the page's script.
    """
    if not candidate or not candidate.startswith("/"):
        return None
    if not url_has_allowed_host_and_scheme(candidate, allowed_hosts=None):
        return None
    return candidate


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@require_GET
@ensure_csrf_cookie  # the script sends it back as X-CSRFToken on its POSTs
def signin(request: HttpRequest) -> HttpResponse:
    next_path = _local_path(request.GET.get("next")) or DEFAULT_AFTER_SIGN_IN
    return render(request, "accounts/signin.html", {"next_path": next_path})


def admin_signin(request: HttpRequest) -> HttpResponse:
    """Where the admin sends whoever it does not let in. Its own login form wants a
    password; people here sign in with a wallet. Someone already signed in who is not staff
    would only come back here from the sign-in page, so they are told so, once."""
    next_path = _local_path(request.GET.get("next")) or reverse("admin:index")
    if request.user.is_authenticated and not request.user.is_staff:
        return render(request, "accounts/staff_only.html", status=403)
    if request.user.is_authenticated:
        return redirect(next_path)
    return redirect(f"{reverse('signin')}?{urlencode({'next': next_path})}")


@require_POST
def signout(request: HttpRequest) -> HttpResponseRedirect:
    logout(request)
    return redirect("home")
