from django.urls import path

from fabric.api import proof_of_funds

urlpatterns: list = [
    path(
        "proof-of-funds/<str:wallet>",
        proof_of_funds.ProofOfFundsView.as_view(),
        name="fabric-proof-of-funds",
    ),
]
