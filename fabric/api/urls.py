from django.urls import path

from fabric.api import escrow

urlpatterns: list = [
    path("escrow/init", escrow.EscrowInitView.as_view(), name="fabric-escrow-init"),
    path("escrow/<str:escrow_id>", escrow.EscrowDetailView.as_view(), name="fabric-escrow"),
]
