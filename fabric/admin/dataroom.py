"""The data room and listing images in the back office: documents with their downloads,
the access log and the images, all read-only (sellers manage them on their pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from fabric.models import DataRoomDocument, DataRoomDownload, DownloadKind, ListingMedia


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the sellers' pages and the download links write; operators look."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DownloadInline(admin.TabularInline):
    model = DataRoomDownload
    extra = 0
    fields = ("created_at", "kind", "user", "wallet_address", "ip_address")
    readonly_fields = fields
    ordering = ["-created_at"]
    can_delete = False
    max_num = 0
    show_change_link = False


@admin.register(DataRoomDocument)
class DataRoomDocumentAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "listing",
        "content_type",
        "size_shown",
        "links",
        "downloads",
        "uploaded_by",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["content_type", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "sha256", "listing__title", "listing__organization__name"]
    list_select_related = ["listing", "uploaded_by"]
    raw_id_fields = ["listing", "uploaded_by", "deleted_by"]
    date_hierarchy = "created_at"
    inlines = [DownloadInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataRoomDocument]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                link_count=Count("downloads", filter=Q(downloads__kind=DownloadKind.LINK)),
                download_count=Count("downloads", filter=Q(downloads__kind=DownloadKind.DOWNLOAD)),
            )
        )

    @admin.display(description="size", ordering="size")
    def size_shown(self, document: DataRoomDocument) -> str:
        return filesizeformat(document.size)

    @admin.display(description="links issued", ordering="link_count")
    def links(self, document: Any) -> int:
        return document.link_count

    @admin.display(description="files served", ordering="download_count")
    def downloads(self, document: Any) -> int:
        return document.download_count


@admin.register(DataRoomDownload)
class DataRoomDownloadAdmin(ReadOnlyAdmin):
    """The data room's access log: every link handed out and every file served."""

    list_display = ["created_at", "document", "listing", "kind", "user", "wallet_address"]
    list_display += ["ip_address"]
    list_filter = ["kind", "created_at"]
    search_fields = [
        "wallet_address",
        "ip_address",
        "document__title",
        "document__listing__title",
    ]
    list_select_related = ["document__listing", "user"]
    raw_id_fields = ["document", "user"]
    date_hierarchy = "created_at"

    @admin.display(description="listing", ordering="document__listing__title")
    def listing(self, download: DataRoomDownload) -> str:
        return download.document.listing.title


@admin.register(ListingMedia)
class ListingMediaAdmin(ReadOnlyAdmin):
    list_display = ["listing", "kind", "position", "width", "height", "created_at"]
    list_filter = ["kind"]
    search_fields = ["listing__title", "sha256"]
    list_select_related = ["listing"]
    raw_id_fields = ["listing"]
