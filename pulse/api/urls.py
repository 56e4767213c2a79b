from django.urls import path

from pulse.api import github, teams

urlpatterns: list = [
    path("github/webhook", github.GitHubWebhookView.as_view(), name="pulse-github-webhook"),
    path("teams", teams.TeamCreateView.as_view(), name="pulse-teams"),
    path("teams/<str:pulse_id>", teams.TeamDetailView.as_view(), name="pulse-team"),
    path(
        "teams/<str:pulse_id>/github-secret",
        teams.TeamGitHubSecretView.as_view(),
        name="pulse-team-github-secret",
    ),
    path(
        "teams/<str:pulse_id>/contributors",
        teams.TeamContributorsView.as_view(),
        name="pulse-team-contributors",
    ),
    path(
        "contributors/<str:wallet>",
        teams.ContributorProfileView.as_view(),
        name="pulse-contributor",
    ),
]
