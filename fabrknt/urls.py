from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "Fabrknt Suite — operations"
admin.site.site_title = "Fabrknt Suite admin"
admin.site.index_title = "Back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("trace.api.urls")),
    path("api/v1/", include("pulse.api.urls")),
    path("api/v1/", include("fabric.api.urls")),
    path("", include("fabrknt.ops.urls")),
    path("", include("accounts.urls")),
]
