"""The data room tests' world: a seller's organization with a published listing, and
buyers with NDA signatures made by the factories (the NDA's own tests sign for real)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Organization, Role, User, Wallet
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import Listing
from fabric.tests.factories import ListingFactory, NDASignatureFactory

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files of this test only, in its own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@dataclass
class World:
    organization: Organization
    listing: Listing
    seller: User  # a member (write) of the seller's organization
    seller_wallet: Wallet
    viewer: User  # a viewer of the seller's organization
    buyer: User  # signed the NDA
    buyer_wallet: Wallet
    stranger: User  # signed nothing


def world(**listing_fields: object) -> World:
    organization = OrganizationFactory(name="Moonbase Labs")
    seller_wallet = WalletFactory()
    MembershipFactory(organization=organization, user=seller_wallet.user, role=Role.MEMBER)
    viewer = WalletFactory().user
    MembershipFactory(organization=organization, user=viewer, role=Role.VIEWER)
    listing = ListingFactory(organization=organization, **listing_fields)
    buyer_wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=buyer_wallet)
    return World(
        organization=organization,
        listing=listing,
        seller=seller_wallet.user,
        seller_wallet=seller_wallet,
        viewer=viewer,
        buyer=buyer_wallet.user,
        buyer_wallet=buyer_wallet,
        stranger=WalletFactory().user,
    )


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def image_bytes(width: int, height: int, fmt: str = "PNG", **save: object) -> bytes:
    """A real image, with a gradient so that encoders have something to encode."""
    gradient = Image.linear_gradient("L")
    image = Image.merge(
        "RGB",
        (
            gradient.resize((width, height)),
            gradient.rotate(90).resize((width, height)),
            Image.new("L", (width, height), 128),
        ),
    )
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()
