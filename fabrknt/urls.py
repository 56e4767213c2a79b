from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

import fabrknt.api.schema  # noqa: F401  (registers our auth classes with the schema)
from accounts.views import admin_signin
from fabrknt.security.swagger_ui import swagger_ui_view
from trace.tracking import tracking_redirect

# Django's own error pages, as the API's JSON error body under /api/.
handler400 = "fabrknt.api.errors.bad_request"
handler403 = "fabrknt.api.errors.permission_denied"
handler404 = "fabrknt.api.errors.page_not_found"
handler500 = "fabrknt.api.errors.server_error"

admin.site.site_header = "Fabrknt Suite — operations"
admin.site.site_title = "Fabrknt Suite admin"
admin.site.index_title = "Back office"

urlpatterns = [
    path("admin/login/", admin_signin, name="admin-signin"),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page runs under
    # a Content-Security-Policy without inline scripts (fabrknt.security.swagger_ui).
    path("api/v1/docs/", swagger_ui_view(schema_url_name="schema"), name="api-docs"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("trace.api.urls")),
    path("api/v1/", include("pulse.api.urls")),
    path("api/v1/", include("pulse.api.discord_urls")),
    path("api/v1/", include("pulse.api.vitality_urls")),
    path("api/v1/", include("pulse.api.sbt_urls")),
    path("api/v1/", include("fabric.api.urls")),
    path("api/v1/", include("fabrknt.ops.api.telemetry_urls")),
    path("api/v1/", include("fabrknt.live.urls")),
    path("trace/", include("trace.urls")),
    path("pulse/", include("pulse.urls")),
    path("pulse/", include("pulse.pages.dashboard_urls")),
    path("pulse/", include("pulse.pages.sbt_urls")),
    path("organizations/", include("accounts.pages.urls")),
    path("verify/", include("trace.pages.verify_urls")),
    path("pulse/discord/", include("pulse.pages.discord_urls")),
    path("pulse/notion/", include("pulse.pages.notion_urls")),
    path("pulse/invite/", include("pulse.pages.invite_urls")),
    path("fabric/", include("fabric.urls")),
    path("account/identities/", include("pulse.pages.identity_urls")),
    path("t/<uuid:campaign_id>", tracking_redirect, name="trace-tracking-link"),
    path("ops/", include("fabrknt.ops.pages.urls")),
    path("", include("fabrknt.ops.urls")),
    path("", include("accounts.urls")),
]
