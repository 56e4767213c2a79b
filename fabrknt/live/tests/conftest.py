"""The ASGI server fixture of the live tests (fabrknt/live/tests/server.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connection

from accounts.tests.factories import MembershipFactory
from fabrknt.live.tests.server import AsgiServer, asgi_server_start
from trace.tests.factories import CampaignFactory, ProjectFactory


@pytest.fixture
def asgi_server(tmp_path) -> Iterator[Callable[..., AsgiServer]]:
    """Starts uvicorn serving the project against this run's database (rows a
    transactional test commits are visible to it) and Redis, with environment overrides."""
    servers: list[AsgiServer] = []

    def start(**env: str) -> AsgiServer:
        db = connection.settings_dict
        server = asgi_server_start(
            cwd=settings.BASE_DIR,
            log=tmp_path / f"uvicorn-{len(servers)}.log",
            env={
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                **env,
            },
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def member_campaign():
    """A user and a campaign of the user's organization."""
    membership = MembershipFactory()
    project = ProjectFactory(organization=membership.organization)
    return membership.user, CampaignFactory(project=project)
