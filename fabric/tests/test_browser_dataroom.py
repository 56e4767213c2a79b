"""The data room in headless Chromium: the seller uploads a document through the page's
plain form, sees it listed; a buyer who signed the NDA downloads it from the data room
page, and the seller's access log shows it. Axe-clean pages on the way."""

from __future__ import annotations

import pytest
from django.test import Client

from fabric.models import DataRoomDocument, DataRoomDownload, DownloadKind
from fabric.tests.dataroom_support import (
    PDF,
    image_bytes,
    media_root,  # noqa: F401 (autouse fixture)
    world,
)
from fabrknt.tests.browser import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _context(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(accept_downloads=True)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(10000)
    return context, page


def test_upload_through_the_page_then_the_buyer_downloads(live_server, browser, tmp_path):
    w = world()
    pdf = tmp_path / "Financials 2026.pdf"
    pdf.write_bytes(PDF)

    seller_context, seller = _context(browser, live_server, w.seller)
    seller.goto(f"{live_server.url}/fabric/listings/{w.listing.pk}/dataroom/manage/")
    assert seller.get_by_text("No documents yet").is_visible()
    seller.get_by_label("Document", exact=True).set_input_files(str(pdf))
    seller.get_by_label("Title").fill("Financials 2026")
    seller.get_by_role("button", name="Upload").click()
    seller.get_by_text("“Financials 2026” is in the data room.").wait_for()
    document = DataRoomDocument.objects.get()
    row = seller.get_by_test_id(f"document-{document.pk}")
    assert row.locator(".document-list__title").inner_text() == "Financials 2026"
    assert "Financials_2026.pdf" in row.inner_text()
    assert axe_violations(seller) == []

    # A file whose content is not accepted: the page says why, nothing is stored.
    fake = tmp_path / "setup.pdf"
    fake.write_bytes(b"MZ" + b"\x00" * 200)
    seller.get_by_label("Document", exact=True).set_input_files(str(fake))
    seller.get_by_role("button", name="Upload").click()
    seller.get_by_text("This file's content is not one of the accepted types").wait_for()
    assert DataRoomDocument.objects.count() == 1

    buyer_context, buyer = _context(browser, live_server, w.buyer)
    buyer.goto(f"{live_server.url}/fabric/listings/{w.listing.pk}/dataroom/")
    assert axe_violations(buyer) == []
    with buyer.expect_download() as event:
        buyer.get_by_role("button", name="Download Financials 2026").click()
    download = event.value
    assert download.suggested_filename == "Financials_2026.pdf"
    assert open(download.path(), "rb").read() == PDF
    assert sorted(DataRoomDownload.objects.values_list("kind", flat=True)) == [
        DownloadKind.DOWNLOAD,
        DownloadKind.LINK,
    ]

    seller.reload()
    log = seller.get_by_test_id("access-log").inner_text()
    assert w.buyer_wallet.address in log and "File served" in log
    buyer_context.close()
    seller_context.close()


def test_the_seller_uploads_a_screenshot_and_sees_its_preview(live_server, browser, tmp_path):
    w = world()
    shot = tmp_path / "dashboard.png"
    shot.write_bytes(image_bytes(1800, 900))
    context, page = _context(browser, live_server, w.seller)
    page.goto(f"{live_server.url}/fabric/listings/{w.listing.pk}/media/")
    page.get_by_role("radio", name="Screenshot").check()
    page.get_by_label("Image", exact=True).set_input_files(str(shot))
    page.get_by_role("button", name="Upload").click()
    preview = page.get_by_role("img", name=f"Screenshot 1 of {w.listing.title}")
    preview.wait_for()
    # The browser decoded the WebP the page serves, at its resized size. Visible is not
    # loaded: decode() waits for the image (and fails on one the browser cannot decode).
    decoded = (
        "async img => { await img.decode(); "
        "return [img.complete, img.naturalWidth, img.naturalHeight]; }"
    )
    assert preview.evaluate(decoded) == [
        True,
        1600,
        800,
    ]
    assert axe_violations(page) == []
    context.close()
