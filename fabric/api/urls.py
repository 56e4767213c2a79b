from django.urls import path

from fabric.api.suite import SuiteSummaryView

urlpatterns: list = [
    path("suite/summary/<str:listing_id>", SuiteSummaryView.as_view(), name="fabric-suite-summary"),
]
