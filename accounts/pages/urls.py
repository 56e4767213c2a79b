"""/organizations/…: the organization pages (accounts.pages.organizations)."""

from __future__ import annotations

from django.urls import path

from accounts.pages import organizations as views

app_name = "organizations"

urlpatterns = [
    path("", views.organization_list, name="list"),
    path("new", views.organization_create_page, name="create"),
    path("switch", views.organization_switch, name="switch"),
    path("<uuid:organization_id>/", views.organization_detail, name="detail"),
    path("<uuid:organization_id>/settings", views.organization_settings, name="settings"),
    path("<uuid:organization_id>/export", views.organization_export, name="export"),
    path("<uuid:organization_id>/delete", views.organization_delete_page, name="delete"),
    path("<uuid:organization_id>/members/", views.members, name="members"),
    path("<uuid:organization_id>/members/new", views.member_add, name="member_add"),
    path(
        "<uuid:organization_id>/members/<uuid:membership_id>/role",
        views.member_role,
        name="member_role",
    ),
    path(
        "<uuid:organization_id>/members/<uuid:membership_id>/remove",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "<uuid:organization_id>/members/<uuid:membership_id>/transfer",
        views.member_transfer,
        name="member_transfer",
    ),
    path("<uuid:organization_id>/api-keys/", views.api_keys, name="api_keys"),
    path("<uuid:organization_id>/api-keys/new", views.api_key_create, name="api_key_create"),
    path(
        "<uuid:organization_id>/api-keys/<uuid:key_id>/",
        views.api_key_detail,
        name="api_key_detail",
    ),
    path(
        "<uuid:organization_id>/api-keys/<uuid:key_id>/revoke",
        views.api_key_revoke_page,
        name="api_key_revoke",
    ),
    path("<uuid:organization_id>/audit", views.audit_log, name="audit"),
]
