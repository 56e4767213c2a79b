"""The data room's pages, on the same services as the API (fabric.services.dataroom):

- /fabric/listings/<id>/dataroom/manage/: the seller's members with write access upload
  (a plain multipart form), list and delete documents, and read the access log;
- /fabric/listings/<id>/dataroom/: the documents for the seller's members and the
  buyers who signed the NDA (`gated_listing`), each with a Download button that asks for
  a short-lived link.
"""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from fabric.models import DataRoomDownload, Listing
from fabric.pages.upload_forms import DocumentUploadForm, upload_too_large
from fabric.selectors import (
    data_room_documents,
    gated_listing,
    seller_document,
    seller_listing,
)
from fabric.services.dataroom import (
    document_delete,
    document_filename,
    document_link_issue,
    document_upload,
)
from fabrknt.api.errors import NotFound
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import ConfirmForm, form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted
from fabrknt.security.client_ip import client_ip

Request = AuthenticatedHttpRequest
ACCESS_LOG_ROWS = 50


def _rows(listing: Listing) -> list[dict[str, object]]:
    return [
        {"document": document, "filename": document_filename(document)}
        for document in data_room_documents(listing)
    ]


@page_view
def manage_page(request: Request, listing_id: UUID) -> HttpResponse:
    listing = seller_listing(listing_id=listing_id, access=page_access(request))
    limit = settings.FABRIC_DOCUMENT_MAX_BYTES
    too_large = upload_too_large(request, limit)
    form = DocumentUploadForm(
        None if too_large else posted(request), None if too_large else request.FILES or None
    )
    if too_large:
        form.status = 413
        messages.error(request, f"That file is too large: at most {filesizeformat(limit)}.")
    elif submitted(request):
        uploaded = form.submit(
            lambda: document_upload(
                listing=listing,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                actor=request.user,
            )
        )
        if uploaded is not None:
            title = uploaded.document.title
            if uploaded.created:
                messages.success(request, f"“{title}” is in the data room.")
            else:
                messages.success(request, f"That file is already in the data room as “{title}”.")
            return redirect_to(request, request.path)
    access_log = (
        DataRoomDownload.objects.filter(document__listing=listing)
        .select_related("document", "user")
        .order_by("-created_at")[:ACCESS_LOG_ROWS]
    )
    context = {
        "listing": listing,
        "documents": _rows(listing),
        "access_log": access_log,
        "link_minutes": settings.FABRIC_DOCUMENT_LINK_SECONDS // 60,
    }
    return form_page(request, "fabric/dataroom/manage.html", context, form)


@page_view
def delete_page(request: Request, listing_id: UUID, document_id: UUID) -> HttpResponse:
    document = seller_document(
        listing_id=listing_id, document_id=document_id, access=page_access(request)
    )
    form = ConfirmForm(posted(request))
    if submitted(request):

        def delete() -> bool:
            document_delete(document=document, actor=request.user)
            return True

        if form.submit(delete):
            messages.success(request, f"“{document.title}” was removed from the data room.")
            return redirect_to(request, reverse("fabric:dataroom-manage", args=[listing_id]))
    context: dict[str, object] = {"listing": document.listing, "document": document}
    return form_page(request, "fabric/dataroom/delete.html", context, form)


@page_view
def room_page(request: Request, listing_id: UUID) -> HttpResponse:
    view = gated_listing(listing_id=listing_id, access=page_access(request))
    context = {"listing": view.listing, "view": view, "documents": _rows(view.listing)}
    return render(request, "fabric/dataroom/room.html", context)


@require_POST
@page_view
def download(request: Request, listing_id: UUID, document_id: UUID) -> HttpResponse:
    """Hand out a short-lived link and follow it: a link on this server directly; a
    bucket's presigned link from a page (the pages' CSP lets forms lead only here)."""
    view = gated_listing(listing_id=listing_id, access=page_access(request))
    document = data_room_documents(view.listing).filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    link = document_link_issue(
        document=document, view=view, user=request.user, ip_address=client_ip(request)
    )
    if link.url.startswith("/"):
        return HttpResponseRedirect(link.url, status=303)
    context = {"listing": view.listing, "document": document, "link": link}
    return render(request, "fabric/dataroom/ready.html", context)
