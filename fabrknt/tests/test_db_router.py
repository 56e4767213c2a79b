"""The read replica (fabrknt/db_router.py) against real PostgreSQL.

The `replica` alias here is a second, real database: a copy of the test database taken
after the world was written (CREATE DATABASE ... TEMPLATE), which receives no writes
afterwards — a replica lagging for ever. One row differs in it (the project is named
"replica copy" there), so every answer says which database served it.
"""

from __future__ import annotations

import copy
import json
import time

import psycopg
import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connection, connections, router, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.client import RequestFactory

from accounts.models import Role
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from fabric.models import Listing
from fabric.tests.factories import ListingFactory
from fabrknt.db_router import (
    PIN_COOKIE,
    REPLICA,
    ReplicaReadsMiddleware,
    _replica_reads,
    replica_configured,
)
from fabrknt.tests.test_settings import production_env, setting
from trace.models import Project
from trace.tests.factories import ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PRIMARY_NAME = "primary"
REPLICA_NAME = "replica copy"


def _admin_connection() -> psycopg.Connection:
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def world(transactional_db):
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    other = MembershipFactory(organization=organization, role=Role.MEMBER).user
    project = ProjectFactory(organization=organization, name=PRIMARY_NAME)
    listing = ListingFactory(title=PRIMARY_NAME)
    writer_key = api_key_issue(organization=organization, name="w", scopes=["read", "write"]).key
    reader_key = api_key_issue(organization=organization, name="r", scopes=["read"]).key
    owner_client, other_client = Client(), Client()
    owner_client.force_login(owner)  # the sessions exist before the copy, as on a replica
    other_client.force_login(other)
    return {
        "organization": organization,
        "project": project,
        "listing": listing,
        "owner": owner_client,
        "other": other_client,
        "writer_key": writer_key,
        "reader_key": reader_key,
    }


@pytest.fixture
def lagging_replica(world, settings):
    """The `replica` alias on a copy of the test database that receives no writes."""
    settings.DATABASE_REPLICA_PIN_SECONDS = 1.5
    source = connection.settings_dict["NAME"]
    copy_name = f"{source}_lagging"
    connections.close_all()  # a template database must have no other sessions
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
        admin.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{source}"')
    replica = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    replica["NAME"] = copy_name
    connections.settings[REPLICA] = replica
    # Opened here: the test case allows only the aliases it knew when it began to connect.
    connections[REPLICA].connect()
    Project.objects.using(REPLICA).filter(pk=world["project"].pk).update(name=REPLICA_NAME)
    Listing.objects.using(REPLICA).filter(pk=world["listing"].pk).update(title=REPLICA_NAME)
    try:
        yield world
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{copy_name}" WITH (FORCE)')


def project_name(get, world) -> str:
    response = get(f"/api/v1/projects/{world['project'].pk}")
    assert response.status_code == 200, response.content[:300]
    return response.json()["name"]


def key_get(key):
    client = Client()
    return lambda path: client.get(path, HTTP_X_API_KEY=key)


def test_safe_requests_read_the_replica(lagging_replica):
    world = lagging_replica
    listings = Client().get("/api/v1/listings")
    assert listings.status_code == 200
    titles = {row["title"] for row in listings.json()["results"]}
    assert titles == {REPLICA_NAME}  # anonymous
    assert project_name(world["owner"].get, world) == REPLICA_NAME  # a session
    assert project_name(key_get(world["reader_key"]), world) == REPLICA_NAME  # a key
    # Reading pins nobody.
    assert PIN_COOKIE not in world["owner"].cookies


def test_a_session_reads_its_own_write_until_the_window_ends(lagging_replica):
    world = lagging_replica
    owner, other = world["owner"], world["other"]
    created = owner.post(
        "/api/v1/projects",
        {
            "organization": world["organization"].pk,
            "name": "just written",
            "chain": "eip155:8453",
            "contract_addresses": [],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert PIN_COOKIE in created.cookies
    assert created.cookies[PIN_COOKIE]["max-age"] == 2  # the window, rounded up

    # The writer reads the primary: its new project and the primary's name.
    listed = owner.get("/api/v1/projects").json()["results"]
    assert {row["name"] for row in listed} == {PRIMARY_NAME, "just written"}
    assert project_name(owner.get, world) == PRIMARY_NAME
    # Another member of the same organization still reads the replica.
    listed = other.get("/api/v1/projects").json()["results"]
    assert {row["name"] for row in listed} == {REPLICA_NAME}
    # The write went to the primary only.
    assert Project.objects.using(DEFAULT_DB_ALIAS).filter(name="just written").exists()
    assert not Project.objects.using(REPLICA).filter(name="just written").exists()

    time.sleep(1.6)  # the window is over: the signed cookie is too old
    assert project_name(owner.get, world) == REPLICA_NAME


def test_a_key_reads_its_own_write_another_key_does_not(lagging_replica):
    world = lagging_replica
    writer, reader = key_get(world["writer_key"]), key_get(world["reader_key"])
    patched = Client().patch(
        f"/api/v1/projects/{world['project'].pk}",
        {"name": "patched"},
        content_type="application/json",
        HTTP_X_API_KEY=world["writer_key"],
    )
    assert patched.status_code == 200, patched.content
    assert PIN_COOKIE not in patched.cookies  # a key's caller is pinned in the cache

    assert project_name(writer, world) == "patched"
    assert project_name(reader, world) == REPLICA_NAME
    assert Project.objects.using(REPLICA).get(pk=world["project"].pk).name == REPLICA_NAME

    time.sleep(1.6)
    assert project_name(writer, world) == REPLICA_NAME


def test_a_safe_request_that_writes_pins_its_caller(lagging_replica):
    """A GET whose view writes to the primary (here: a session saved on the way out)."""
    world = lagging_replica
    factory = RequestFactory()

    def writes(request):
        Project.objects.filter(pk=world["project"].pk).update(name="written by a GET")
        return HttpResponse(json.dumps(Project.objects.get(pk=world["project"].pk).name))

    response = ReplicaReadsMiddleware(writes)(factory.get("/"))
    assert response.content == json.dumps(REPLICA_NAME).encode()  # it read the replica
    assert PIN_COOKIE in response.cookies
    reads = ReplicaReadsMiddleware(
        lambda request: HttpResponse(Project.objects.get(pk=world["project"].pk).name)
    )
    pinned = factory.get("/")
    pinned.COOKIES[PIN_COOKIE] = response.cookies[PIN_COOKIE].value
    assert reads(pinned).content == b"written by a GET"
    assert reads(factory.get("/")).content == REPLICA_NAME.encode()


def test_locks_get_or_create_and_transactions_read_the_primary(lagging_replica):
    world = lagging_replica
    pk = world["project"].pk
    token = _replica_reads.set(True)  # as inside a safe request of an unpinned caller
    try:
        assert Project.objects.get(pk=pk).name == REPLICA_NAME
        assert Project.objects.get_or_create(pk=pk)[0].name == PRIMARY_NAME
        assert Project.objects.select_for_update().db == DEFAULT_DB_ALIAS
        with transaction.atomic():
            assert Project.objects.select_for_update().get(pk=pk).name == PRIMARY_NAME
            assert Project.objects.get(pk=pk).name == PRIMARY_NAME
        # A row read from the replica is saved to the primary.
        replica_row = Project.objects.get(pk=pk)
        replica_row.name = "saved"
        replica_row.save(update_fields=["name"])
    finally:
        _replica_reads.reset(token)
    assert Project.objects.using(DEFAULT_DB_ALIAS).get(pk=pk).name == "saved"
    assert Project.objects.using(REPLICA).get(pk=pk).name == REPLICA_NAME


def test_tasks_commands_and_migrations_use_the_primary(lagging_replica):
    """Outside a request (a Celery task, a command) nothing turns replica reads on."""
    world = lagging_replica
    assert Project.objects.get(pk=world["project"].pk).name == PRIMARY_NAME
    assert router.allow_migrate(REPLICA, "trace", model_name="project") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "trace", model_name="project") is True


@pytest.mark.django_db
def test_without_a_replica_nothing_changes(client):
    assert not replica_configured()
    with pytest.raises(MiddlewareNotUsed):
        ReplicaReadsMiddleware(HttpResponse)
    assert router.db_for_read(Project) == DEFAULT_DB_ALIAS
    assert PIN_COOKIE not in client.get("/healthz").cookies
    assert PIN_COOKIE not in client.post("/api/v1/projects", {}).cookies


def test_settings_add_the_alias_only_when_the_url_is_set(settings):
    url = "postgres://reader:pw@replica.internal:5432/fabrknt"
    assert "DATABASE_REPLICA_URL" not in production_env()
    assert set(settings.DATABASES) == {DEFAULT_DB_ALIAS}  # this suite's, without it
    configured = setting("DATABASES", production_env(DATABASE_REPLICA_URL=url))
    assert configured.returncode == 0, configured.stderr
    replica = json.loads(configured.stdout)[REPLICA]
    assert (replica["HOST"], replica["NAME"], replica["USER"]) == (
        "replica.internal",
        "fabrknt",
        "reader",
    )
    assert replica["TEST"]["MIRROR"] == DEFAULT_DB_ALIAS
