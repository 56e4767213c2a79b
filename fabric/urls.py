"""FABRIC's pages, under /fabric/: each area's routes live in fabric/pages/<area>_urls.py."""

from django.urls import include, path

app_name = "fabric"
urlpatterns: list = [
    path("", include("fabric.pages.revenue_urls")),
    path("", include("fabric.pages.market_urls")),
    path("sell/", include("fabric.pages.sell_urls")),
    path("", include("fabric.pages.offers_urls")),
    path("", include("fabric.pages.dataroom_urls")),
    path("", include("fabric.pages.media_urls")),
    path("", include("fabric.pages.escrow_urls")),
]
