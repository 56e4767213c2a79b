from django.urls import path

from pulse.api import sbt_views

urlpatterns = [
    path("mint-sbt", sbt_views.MintSbtView.as_view(), name="pulse-mint-sbt"),
    path(
        "sbt/<str:chain>/<str:address>/<int:token_id>",
        sbt_views.TokenMetadataView.as_view(),
        name="pulse-sbt-metadata",
    ),
]
