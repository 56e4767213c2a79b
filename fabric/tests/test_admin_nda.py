"""The NDA back office: signatures are read-only evidence; buyer access lists load."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory, WalletFactory
from fabric.tests.factories import BuyerAccessFactory, ListingFactory, NDASignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_signatures_and_access_are_listed_and_signatures_cannot_be_edited(operator):
    listing = ListingFactory(title="Admin listing")
    wallet = WalletFactory()
    signature = NDASignatureFactory(listing=listing, wallet=wallet, message="the text")
    BuyerAccessFactory(listing=listing, wallet_address=wallet.address, revoked=True)

    signatures = operator.get("/admin/fabric/ndasignature/", {"q": wallet.address})
    access = operator.get("/admin/fabric/buyeraccess/", {"revoked_at__isempty": "0"})
    detail = operator.get(f"/admin/fabric/ndasignature/{signature.pk}/change/")
    edit = operator.post(f"/admin/fabric/ndasignature/{signature.pk}/change/", {"message": "x"})

    assert (signatures.status_code, access.status_code, detail.status_code) == (200, 200, 200)
    assert wallet.address in signatures.content.decode()
    assert "Admin listing" in access.content.decode()
    assert edit.status_code == 403
    signature.refresh_from_db()
    assert signature.message == "the text"
    assert operator.get("/admin/fabric/ndasignature/add/").status_code == 403
