"""Every admin action carries the permission it needs: a staff user who may only view a
model neither sees its actions nor can run one by posting it, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client, RequestFactory
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.models import ApiKey
from accounts.services.api_keys import api_key_authenticate, api_key_issue
from accounts.tests.factories import OrganizationFactory, UserFactory
from fabrknt.ops.services import ping_key
from fabrknt.security.models import IpRule
from trace.models import ActivityMetric, FlagStatus, Project, WalletFlag
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_every_admin_action_declares_its_permissions():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)  # sees every action

    undeclared = [
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        for function, name, _ in model_admin.get_actions(request).values()
        if not getattr(function, "allowed_permissions", None)
    ]

    assert undeclared == []


def staff_client(app_label: str, model_name: str, *actions: str) -> Client:
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label=app_label,
            codename__in=[f"{action}_{model_name}" for action in actions],
        )
    )
    client = Client()
    client.force_login(user)
    return client


def action_choices(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is left
    return [] if form is None else [name for name, _ in form.fields["action"].choices if name]


def _api_key() -> tuple[list[int], Callable[[], object]]:
    issued = api_key_issue(organization=OrganizationFactory(), name="partner", scopes=["read"])
    state = lambda: (  # noqa: E731
        list(ApiKey.objects.values_list("revoked_at", flat=True)),
        api_key_authenticate(key=issued.key) is not None,
    )
    return [issued.api_key.pk], state


def _ip_rules(enabled: bool) -> tuple[list[int], Callable[[], object]]:
    rule = IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK, enabled=enabled)
    return [rule.pk], lambda: list(IpRule.objects.values_list("cidr", "enabled"))


def _projects() -> tuple[list[int], Callable[[], object]]:
    project = ProjectFactory()
    return [project.pk], lambda: (
        list(Project.objects.values_list("last_indexed_block", flat=True)),
        ActivityMetric.objects.count(),
    )


def _wallet_flags() -> tuple[list[int], Callable[[], object]]:
    flag = WalletFlag.objects.create(
        project=ProjectFactory(),
        wallet_address="0x" + "a" * 40,
        reason="lockstep",
        score=0.8,
        status=FlagStatus.SUSPECTED,
    )
    return [flag.pk], lambda: list(
        WalletFlag.objects.values_list("status", "reviewed_by", "reviewed_at")
    )


def _periodic_tasks() -> tuple[list[int], Callable[[], object]]:
    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    ping = PeriodicTask.objects.create(
        name="ping", task="ops.ping", args='["from-the-admin"]', interval=every_minute
    )
    return [ping.pk], lambda: (
        list(PeriodicTask.objects.values_list("enabled", flat=True)),
        cache.get(ping_key("from-the-admin")),  # what running it leaves
    )


# (app label, model, action, rows to select and a snapshot of what the action would change)
ACTIONS = [
    ("accounts", "apikey", "revoke_keys", _api_key),
    ("security", "iprule", "enable_rules", lambda: _ip_rules(enabled=False)),
    ("security", "iprule", "disable_rules", lambda: _ip_rules(enabled=True)),
    ("security", "iprule", "delete_selected", lambda: _ip_rules(enabled=True)),
    ("trace", "project", "reindex", _projects),
    ("trace", "project", "recompute_metrics", _projects),
    ("trace", "walletflag", "confirm", _wallet_flags),
    ("trace", "walletflag", "clear", _wallet_flags),
    ("django_celery_beat", "periodictask", "disable_tasks", _periodic_tasks),
    ("django_celery_beat", "periodictask", "run_tasks", _periodic_tasks),
]


def run_action(client: Client, url: str, action: str, selected: list[int]) -> None:
    # `post` confirms at once what asks for a confirmation first (delete_selected).
    client.post(url, {"action": action, "_selected_action": selected, "post": "yes"})


@pytest.mark.parametrize(
    ("app_label", "model_name", "action", "make_rows"),
    ACTIONS,
    ids=[f"{model_name}.{action}" for _, model_name, action, _ in ACTIONS],
)
def test_a_view_only_staff_user_neither_sees_nor_runs_an_action(
    app_label, model_name, action, make_rows, django_capture_on_commit_callbacks
):
    selected, state = make_rows()
    before = state()
    url = f"/admin/{app_label}/{model_name}/"
    client = staff_client(app_label, model_name, "view")

    assert action not in action_choices(client, url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_action(client, url, action, selected)

    assert state() == before
    assert callbacks == []  # no task queued either


@pytest.mark.parametrize(
    ("app_label", "model_name", "action", "make_rows"),
    ACTIONS,
    ids=[f"{model_name}.{action}" for _, model_name, action, _ in ACTIONS],
)
def test_with_the_change_or_delete_permission_the_action_runs(
    app_label, model_name, action, make_rows, django_capture_on_commit_callbacks
):
    selected, state = make_rows()
    before = state()
    url = f"/admin/{app_label}/{model_name}/"
    needed = "delete" if action == "delete_selected" else "change"
    client = staff_client(app_label, model_name, "view", needed)

    assert action in action_choices(client, url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_action(client, url, action, selected)

    assert state() != before or len(callbacks) == 1  # the re-index only queues its task
