"""A team's Notion workspace: connect it with an integration token, see what the reader
did, say which contributor each Notion editor is, disconnect. For members who may write."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from accounts.selectors import WRITE
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import ConfirmForm, ServiceForm
from fabrknt.pages.htmx import redirect_to
from pulse.models import Contributor, NotionConnection, Team
from pulse.selectors import team_for_caller
from pulse.services.notion import (
    contributor_notion_user_set,
    notion_connect,
    notion_disconnect,
    notion_unclaimed_editors,
)


class NotionTokenForm(ServiceForm):
    access_token = forms.CharField(
        label="Integration secret",
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Notion → Settings → Connections → Develop or manage integrations: create an "
        "internal integration with “Read content”, copy its secret, and share the pages "
        "to count with it. Stored encrypted; never shown again.",
    )


class NotionEditorForm(ServiceForm):
    notion_user_id = forms.CharField(widget=forms.HiddenInput, max_length=64)
    contributor = forms.ChoiceField(label="Contributor")

    def __init__(self, *args: object, team: Team, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        candidates = Contributor.objects.filter(team=team, notion_user_id="").order_by(
            "wallet_address"
        )
        field = self.fields["contributor"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(c.pk), c.github_login or c.wallet_address) for c in candidates]


def _page(
    request: AuthenticatedHttpRequest,
    team: Team,
    *,
    token_form: NotionTokenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    editors = notion_unclaimed_editors(team=team)
    context = {
        "team": team,
        "connection": NotionConnection.objects.filter(team=team).first(),
        "token_form": token_form or NotionTokenForm(),
        "editors": [
            (editor, NotionEditorForm(initial={"notion_user_id": editor.notion_user_id}, team=team))
            for editor in editors
        ],
        "disconnect_form": ConfirmForm(),
    }
    return render(request, "pulse/notion/workspace.html", context, status=status)


@page_view
def workspace(request: AuthenticatedHttpRequest, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=WRITE)
    if request.method != "POST":
        return _page(request, team)
    form = NotionTokenForm(request.POST)
    connected = form.submit(
        lambda: notion_connect(team=team, access_token=form.cleaned_data["access_token"])
    )
    if connected is None:
        return _page(request, team, token_form=form, status=form.status)
    messages.success(
        request,
        f"Notion workspace {connected.workspace_name or ''} is connected.".replace("  ", " "),
    )
    return redirect_to(request, request.path)


@page_view
def editor(request: AuthenticatedHttpRequest, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=WRITE)
    form = NotionEditorForm(request.POST or None, team=team)
    if request.method == "POST":
        attached = form.submit(
            lambda: contributor_notion_user_set(
                team=team,
                contributor_id=form.cleaned_data["contributor"],
                notion_user_id=form.cleaned_data["notion_user_id"],
            )
        )
        if attached is not None:
            messages.success(request, f"{attached} Notion edits now count for that contributor.")
        else:
            messages.error(request, " ".join(str(e) for e in form.errors.values()))
    return redirect_to(request, reverse("pulse-notion:workspace", args=[team.pulse_id]))


@page_view
def disconnect(request: AuthenticatedHttpRequest, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=WRITE)
    if request.method == "POST" and ConfirmForm(request.POST).submit(
        lambda: notion_disconnect(team=team)
    ):
        messages.success(request, "Notion is disconnected; the edits already counted stay.")
    return redirect_to(request, reverse("pulse-notion:workspace", args=[team.pulse_id]))
