"""The URLconf of `fabrknt.handlers.IngestHandler`: the click ingest routes alone."""

from django.urls import include, path

from trace.api.urls import ingest_urlpatterns

urlpatterns = [path("api/v1/", include(ingest_urlpatterns))]
