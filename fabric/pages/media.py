"""A listing's images: the seller's page (/fabric/listings/<id>/media/: upload a logo and
screenshots, see them, delete them) and the images themselves, served to whoever may see
the listing (`listing_view`: anyone for a published public or NDA listing; the seller's
members always). The original is for the seller's members only."""

from __future__ import annotations

import logging
import mimetypes
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_safe

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from fabric.models import MediaKind
from fabric.pages.upload_forms import MediaUploadForm, upload_too_large
from fabric.selectors import listing_images, seller_image, seller_listing, visible_image
from fabric.services.media import media_delete, media_upload
from fabrknt.api.errors import NotFound
from fabrknt.pages.decorators import page_view, refusals_as_pages
from fabrknt.pages.forms import ConfirmForm, form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted

logger = logging.getLogger(__name__)

Request = AuthenticatedHttpRequest
# Who may see a listing can change (a listing withdrawn, made private): caches keep an
# image briefly, and only for this browser.
IMAGE_CACHE_CONTROL = "private, max-age=300"


@page_view
def media_page(request: Request, listing_id: UUID) -> HttpResponse:
    listing = seller_listing(listing_id=listing_id, access=page_access(request))
    limit = settings.FABRIC_MEDIA_MAX_BYTES
    too_large = upload_too_large(request, limit)
    form = MediaUploadForm(
        None if too_large else posted(request), None if too_large else request.FILES or None
    )
    if too_large:
        form.status = 413
        messages.error(request, f"That image is too large: at most {filesizeformat(limit)}.")
    elif submitted(request):
        uploaded = form.submit(
            lambda: media_upload(
                listing=listing, upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
            )
        )
        if uploaded is not None:
            label = uploaded.media.get_kind_display().lower()
            done = "is uploaded" if uploaded.created else "was already here"
            messages.success(request, f"The {label} {done}.")
            return redirect_to(request, request.path)
    images = list(listing_images(listing))
    context = {
        "listing": listing,
        "logo": next((m for m in images if m.kind == MediaKind.LOGO), None),
        "screenshots": [m for m in images if m.kind == MediaKind.SCREENSHOT],
        "max_screenshots": settings.FABRIC_MEDIA_MAX_SCREENSHOTS,
    }
    return form_page(request, "fabric/media/manage.html", context, form)


@page_view
def media_delete_page(request: Request, listing_id: UUID, media_id: UUID) -> HttpResponse:
    media = seller_image(listing_id=listing_id, media_id=media_id, access=page_access(request))
    form = ConfirmForm(posted(request))
    if submitted(request):

        def delete() -> bool:
            media_delete(media=media)
            return True

        if form.submit(delete):
            messages.success(request, f"The {media.get_kind_display().lower()} was deleted.")
            return redirect_to(request, reverse("fabric:listing-media", args=[listing_id]))
    context: dict[str, object] = {"listing": media.listing, "media": media}
    return form_page(request, "fabric/media/delete.html", context, form)


def _served(file: FieldFile, content_type: str) -> HttpResponseBase:
    """A stored image: from this server's disk, or by a presigned link to the bucket."""
    if isinstance(file.storage, FileSystemStorage):
        try:
            opened = file.open("rb")
        except FileNotFoundError:
            # The row outlived its file (a lost disk, a restore without the media folder):
            # the operator's to mend, the visitor's a 404.
            logger.error("Listing image %s is missing from %s", file.name, file.storage.location)
            raise NotFound() from None
        response: HttpResponseBase = FileResponse(opened, content_type=content_type)
    else:
        response = HttpResponseRedirect(file.storage.url(file.name))
    response["Cache-Control"] = IMAGE_CACHE_CONTROL
    return response


@require_safe
@refusals_as_pages
def media_image(request: HttpRequest, media_id: UUID) -> HttpResponseBase:
    """The WebP of a listing image, to whoever may see the listing (signed in or not)."""
    media, _ = visible_image(media_id=media_id, access=page_access(request))
    return _served(media.webp, "image/webp")


@require_safe
@refusals_as_pages
def media_original(request: HttpRequest, media_id: UUID) -> HttpResponseBase:
    """The image as uploaded (without its metadata), for the seller's members."""
    media, view = visible_image(media_id=media_id, access=page_access(request))
    if not view.is_seller:
        raise NotFound()
    content_type = mimetypes.guess_type(media.original.name or "")[0] or "application/octet-stream"
    return _served(media.original, content_type)
