"""The API key cache holds a compact tuple, not a pickled model, and revocation still
takes effect at once."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.models import ApiKey
from accounts.services.api_keys import api_key_authenticate, api_key_issue, api_key_revoke
from accounts.tests.factories import OrganizationFactory

FIELDS = [field.attname for field in ApiKey._meta.concrete_fields]


def _authenticate_from_cache(key: str, django_assert_num_queries) -> ApiKey:
    assert api_key_authenticate(key=key) is not None  # fills the cache (and last_used_at)
    with django_assert_num_queries(0):
        return api_key_authenticate(key=key)


@pytest.mark.django_db
def test_a_cached_key_is_the_stored_row(django_assert_num_queries):
    issued = api_key_issue(
        organization=OrganizationFactory(), name="partner", scopes=["ingest", "read"]
    )

    cached = _authenticate_from_cache(issued.key, django_assert_num_queries)

    stored = ApiKey.objects.get()
    assert cached == stored
    assert cached._state.adding is False
    assert {name: getattr(cached, name) for name in FIELDS} == {
        name: getattr(stored, name) for name in FIELDS
    }
    assert cached.has_scope("ingest") and not cached.has_scope("write")
    entry = cache.get(f"apikey:v2:{stored.prefix}")
    assert isinstance(entry, tuple)
    assert entry[:2] == (stored.pk.hex, stored.organization_id.hex)


@pytest.mark.django_db
def test_a_wrong_secret_with_a_cached_prefix_is_refused(django_assert_num_queries):
    issued = api_key_issue(organization=OrganizationFactory(), name="k", scopes=["read"])
    _authenticate_from_cache(issued.key, django_assert_num_queries)

    forged = issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B")

    assert api_key_authenticate(key=forged) is None


@pytest.mark.django_db
def test_a_revoked_key_is_refused_at_once_from_the_compact_cache(django_assert_num_queries):
    issued = api_key_issue(organization=OrganizationFactory(), name="k", scopes=["ingest"])
    _authenticate_from_cache(issued.key, django_assert_num_queries)

    assert api_key_revoke(api_key=issued.api_key) is True

    assert cache.get(f"apikey:v2:{issued.api_key.prefix}") is None
    assert api_key_authenticate(key=issued.key) is None
    assert cache.get(f"apikey:v2:{issued.api_key.prefix}") is None  # revoked keys stay out


@pytest.mark.redis
@pytest.mark.django_db
def test_the_compact_cache_round_trips_through_redis(redis_client, django_assert_num_queries):
    test_a_cached_key_is_the_stored_row(django_assert_num_queries)
    test_a_revoked_key_is_refused_at_once_from_the_compact_cache(django_assert_num_queries)
