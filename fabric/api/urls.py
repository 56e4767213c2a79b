from django.urls import path

from fabric.api import proof_of_funds, revenue
from fabric.api.suite import SuiteSummaryView

urlpatterns: list = [
    path("suite/summary/<str:listing_id>", SuiteSummaryView.as_view(), name="fabric-suite-summary"),
    path(
        "proof-of-funds/<str:wallet>",
        proof_of_funds.ProofOfFundsView.as_view(),
        name="fabric-proof-of-funds",
    ),
    path(
        "listings/<str:listing_id>/stripe",
        revenue.ListingStripeView.as_view(),
        name="fabric-listing-stripe",
    ),
]
