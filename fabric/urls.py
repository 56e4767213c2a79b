"""FABRIC's pages, under /fabric/: each area's routes live in fabric/pages/<area>_urls.py."""

from django.urls import include, path

app_name = "fabric"
urlpatterns: list = [
    path("", include("fabric.pages.escrow_urls")),
]
