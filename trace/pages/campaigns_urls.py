"""/trace/campaigns/…: the campaign pages (trace.pages.campaigns), in the `trace` namespace."""

from __future__ import annotations

from django.urls import path

from trace.pages import campaigns as views

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new", views.campaign_create_page, name="campaign-create"),
    path("<uuid:campaign_id>/", views.campaign_detail, name="campaign"),
    path("<uuid:campaign_id>/edit", views.campaign_edit, name="campaign-edit"),
    path("<uuid:campaign_id>/status", views.campaign_status, name="campaign-status"),
    path("<uuid:campaign_id>/archive", views.campaign_archive_page, name="campaign-archive"),
    path("<uuid:campaign_id>/qr.svg", views.campaign_qr, name="campaign-qr"),
]
