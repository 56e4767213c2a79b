from django.urls import path  # noqa: F401  (the TRACE API modules add their routes below)

from trace.api import webhooks  # noqa: E402

urlpatterns: list = []

urlpatterns += [
    path("webhooks/alchemy", webhooks.AlchemyWebhookView.as_view(), name="webhook-alchemy"),
    path("webhooks/helius", webhooks.HeliusWebhookView.as_view(), name="webhook-helius"),
]

from trace.api import clicks, views  # noqa: E402

# Also served by the lean handler in front of Django's (fabrknt.handlers).
ingest_urlpatterns = [
    path("clicks", clicks.click_ingest, name="trace-clicks"),
    path("clicks/batch", clicks.click_batch_ingest, name="trace-clicks-batch"),
]
urlpatterns += ingest_urlpatterns
urlpatterns += [
    path("projects", views.ProjectListCreateView.as_view(), name="trace-projects"),
    path("projects/<uuid:pk>", views.ProjectDetailView.as_view(), name="trace-project"),
    path("campaigns", views.CampaignListCreateView.as_view(), name="trace-campaigns"),
    path("campaigns/<uuid:pk>", views.CampaignDetailView.as_view(), name="trace-campaign"),
    path("identify/message", views.IdentifyMessageView.as_view(), name="trace-identify-message"),
    path("identify", views.IdentifyView.as_view(), name="trace-identify"),
    path("conversions", views.ConversionCreateView.as_view(), name="trace-conversions"),
    path("roi/<uuid:campaign_id>", views.RoiView.as_view(), name="trace-roi"),
]

from trace.api import contracts  # noqa: E402

urlpatterns += [
    path(
        "projects/<uuid:id>/contracts/<str:address>/verify-message",
        contracts.ContractVerifyMessageView.as_view(),
        name="trace-contract-verify-message",
    ),
    path(
        "projects/<uuid:id>/contracts/<str:address>/verify",
        contracts.ContractVerifyView.as_view(),
        name="trace-contract-verify",
    ),
]

from trace.api import metrics  # noqa: E402

urlpatterns += [
    path("metrics/<uuid:project_id>", metrics.ProjectMetricsView.as_view(), name="trace-metrics"),
    path(
        "growth-certificate/<uuid:project_id>",
        metrics.GrowthCertificateView.as_view(),
        name="trace-growth-certificate",
    ),
    path("certificates/keys", metrics.CertificateKeysView.as_view(), name="trace-certificate-keys"),
    path(
        "certificates/<uuid:certificate_id>",
        metrics.CertificateLookupView.as_view(),
        name="trace-certificate",
    ),
]

from trace.api import domains  # noqa: E402

urlpatterns += [
    path(
        "organizations/<uuid:organization_id>/domains",
        domains.LandingDomainListView.as_view(),
        name="trace-landing-domains",
    ),
    path(
        "organizations/<uuid:organization_id>/domains/<str:domain>",
        domains.LandingDomainDetailView.as_view(),
        name="trace-landing-domain",
    ),
    path(
        "organizations/<uuid:organization_id>/domains/<str:domain>/verify",
        domains.LandingDomainVerifyView.as_view(),
        name="trace-landing-domain-verify",
    ),
]
