"""What every product's pages share: the page pattern (README, "Pages").

- `decorators.page_view`: signed-in users only, GET/POST only, and a service's refusal
  (`NotFound`, `PermissionDenied`) answered as Django's 404 or 403 page.
- `forms.ServiceForm`: a Django form whose submission calls one service; the service's
  refusal becomes the form's errors and the page's status.
- `htmx`: is this an htmx request, a redirect htmx follows, inline validation.
"""
