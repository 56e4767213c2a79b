from django.urls import path

from fabric.api import proof_of_funds, revenue

urlpatterns: list = [
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
