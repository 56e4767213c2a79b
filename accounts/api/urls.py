from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/nonce", views.NonceView.as_view(), name="auth-nonce"),
    path("auth/siwe", views.SiweSignInView.as_view(), name="auth-siwe"),
    path("auth/siws", views.SiwsSignInView.as_view(), name="auth-siws"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("me", views.MeView.as_view(), name="me"),
    path("organizations", views.OrganizationListView.as_view(), name="organizations"),
    path(
        "organizations/<uuid:organization_id>",
        views.OrganizationDetailView.as_view(),
        name="organization-detail",
    ),
    path(
        "organizations/<uuid:organization_id>/members",
        views.MembersView.as_view(),
        name="organization-members",
    ),
    path(
        "organizations/<uuid:organization_id>/api-keys",
        views.ApiKeysView.as_view(),
        name="organization-api-keys",
    ),
    path(
        "organizations/<uuid:organization_id>/api-keys/<uuid:key_id>",
        views.ApiKeyDetailView.as_view(),
        name="organization-api-key-detail",
    ),
]
