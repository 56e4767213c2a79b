"""The URLconf of `fabrknt.handlers.IngestHandler`: the click ingest routes alone."""

from django.urls import include, path

# Django's error pages answer as on the full stack: the API's error body, and a 503 when
# the database cannot be reached (without them, Django's HTML pages and a 500).
from fabrknt.urls import handler400, handler403, handler404, handler500  # noqa: F401
from trace.api.urls import ingest_urlpatterns

urlpatterns = [path("api/v1/", include(ingest_urlpatterns))]
