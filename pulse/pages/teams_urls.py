"""/pulse/teams/…: the team pages of `pulse.pages.teams` (included by pulse/urls.py)."""

from __future__ import annotations

from django.urls import path

from pulse.pages import invite
from pulse.pages import teams as views

urlpatterns = [
    path("", views.team_list, name="teams"),
    path("new", views.team_create_page, name="team-create"),
    path("github/setup", views.github_setup, name="github-setup"),
    path("<str:pulse_id>/settings", views.team_settings, name="team-settings"),
    path(
        "<str:pulse_id>/repositories/new", views.team_repositories_add, name="team-repositories-add"
    ),
    path(
        "<str:pulse_id>/contributors/new", views.team_contributor_add, name="team-contributor-add"
    ),
    path(
        "<str:pulse_id>/contributors/<uuid:contributor_id>/invite",
        invite.contributor_invite,
        name="team-contributor-invite",
    ),
    path("<str:pulse_id>/github-secret", views.team_secret_rotate, name="team-secret-rotate"),
]
