"""htmx on our pages: progressive enhancement of plain forms and links.

Every page works without JavaScript; htmx (static/vendor/htmx) only swaps parts of the
same server-rendered page (`hx-select`), so there are no partial templates to keep apart.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict

# Sent by a form's `hx-vals` on `change`: validate and re-render, never act.
VALIDATE_PARAMETER = "validate"


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def is_validation(request: HttpRequest) -> bool:
    """An inline-validation request: the form is checked and shown again, nothing stored."""
    return is_htmx(request) and request.POST.get(VALIDATE_PARAMETER) == "1"


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """After an action: a 303 for a browser, `HX-Redirect` for htmx (which would otherwise
    follow the redirect inside its request and swap the next page into this one)."""
    if is_htmx(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url, status=303)


def posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST (even an empty confirmation), None on GET (unbound)."""
    return request.POST if request.method == "POST" else None


def submitted(request: HttpRequest) -> bool:
    """A POST that should act (not an inline validation)."""
    return request.method == "POST" and not is_validation(request)
