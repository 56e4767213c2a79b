"""TRACE's Celery tasks: thin, idempotent wrappers that take ids and call services.
Their names are the ones `fabrknt.celery.BEAT_SCHEDULE` schedules."""

from __future__ import annotations

import datetime as dt
import logging

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.cache import cache

from fabrknt.celery import RedeliveryCappedTask
from trace.models import BackfillStatus
from trace.services import backfill, indexer

# --- chain ingest -----------------------------------------------------------------------

chain_logger = logging.getLogger("trace.chain")
INDEX_PROJECT_TIME_LIMIT = 240


BACKFILL_RUN_TIME_LIMIT = 600
BACKFILL_MAX_RETRIES = 5
BACKFILL_RETRY_SECONDS = 30
# A running backfill no run advanced for this long lost its next run: queue it again.
BACKFILL_STALLED_AFTER = dt.timedelta(seconds=2 * BACKFILL_RUN_TIME_LIMIT)


@shared_task(name="trace.index_chain", soft_time_limit=30, time_limit=60)
def index_chain() -> int:
    """Beat, every minute: one `trace.index_project` per EVM project with contracts, and
    the next run of any backfill whose run was lost."""
    project_ids = indexer.projects_indexable()
    for project_id in project_ids:
        index_project.delay(str(project_id))
    for backfill_id in backfill.backfills_stalled(idle=BACKFILL_STALLED_AFTER):
        backfill_project.delay(backfill_id)
    return len(project_ids)


@shared_task(
    name="trace.index_project",
    soft_time_limit=INDEX_PROJECT_TIME_LIMIT - 30,
    time_limit=INDEX_PROJECT_TIME_LIMIT,
)
def index_project(project_id: str) -> int:
    # A run still busy with this project (a slow RPC) makes the next minute's one a no-op;
    # the cursor's conditional update keeps even overlapping runs correct.
    lock = f"trace:index_project:{project_id}"
    if not cache.add(lock, 1, timeout=INDEX_PROJECT_TIME_LIMIT):
        return 0
    try:
        return indexer.project_index(project_id=project_id)
    except indexer.INDEX_SKIPPABLE as error:
        chain_logger.warning("indexing project %s skipped: %s", project_id, error)
        return 0
    finally:
        cache.delete(lock)


@shared_task(name="trace.backfill_new_contracts", ignore_result=True)
def backfill_new_contracts(project_id: str, contracts: list[str]) -> None:
    """Contracts just added to a project: their history, from their deployment block."""
    backfill.contracts_backfill_start(project_id=project_id, contracts=contracts)


@shared_task(
    bind=True,
    name="trace.backfill_project",
    soft_time_limit=BACKFILL_RUN_TIME_LIMIT - 30,
    time_limit=BACKFILL_RUN_TIME_LIMIT,
    max_retries=BACKFILL_MAX_RETRIES,
    base=RedeliveryCappedTask,  # typed: it takes longest_countdown (fabrknt.ops.checks)
    longest_countdown=BACKFILL_RETRY_SECONDS * 2 ** (BACKFILL_MAX_RETRIES - 1),
)
def backfill_project(self: Task, backfill_id: int) -> int:
    """One run of a backfill (INDEXER_BACKFILL_BLOCKS_PER_RUN blocks), then the next one
    queued until it is done. A chain that is not configured fails it at once; an endpoint
    failing is retried with back-off, then fails it with the reason."""
    lock = f"trace:backfill_project:{backfill_id}"
    if not cache.add(lock, 1, timeout=BACKFILL_RUN_TIME_LIMIT):
        return 0  # a run is busy with it and queues the next one itself
    try:
        run = backfill.backfill_run(backfill_id=backfill_id)
    except indexer.ChainNotConfigured as error:  # and ChainMismatch: no retry mends it
        backfill.backfill_fail(backfill_id=backfill_id, error=str(error))
        return 0
    except indexer.INDEX_SKIPPABLE as error:
        if self.request.retries >= BACKFILL_MAX_RETRIES:
            backfill.backfill_fail(
                backfill_id=backfill_id, error=f"{type(error).__name__}: {error}"
            )
            return 0
        chain_logger.warning("backfill %s: retrying after %s", backfill_id, error)
        raise self.retry(countdown=BACKFILL_RETRY_SECONDS * 2**self.request.retries) from error
    finally:
        cache.delete(lock)
    if run.backfill.status == BackfillStatus.RUNNING:
        backfill_project.delay(backfill_id)
    return run.stored


@shared_task(name="trace.attribute_interactions", soft_time_limit=60, time_limit=90)
def attribute_interactions(interaction_ids: list[int]) -> int:
    from trace.services.attribution import attribution_apply_interactions

    return attribution_apply_interactions(interaction_ids=interaction_ids)


# --- provider address lists -------------------------------------------------------------

# A failed sync is tried again after 30 s, 1, 2, 4 ... minutes (full jitter), at most every
# 30 minutes, 8 times: about an hour and a half, under the broker's visibility timeout.
SYNC_PROVIDER_MAX_RETRIES = 8
SYNC_PROVIDER_BACKOFF_SECONDS = 30
SYNC_PROVIDER_BACKOFF_MAX_SECONDS = 30 * 60


@shared_task(
    bind=True,
    name="trace.sync_provider_addresses",
    soft_time_limit=60,
    time_limit=90,
    max_retries=SYNC_PROVIDER_MAX_RETRIES,
    base=RedeliveryCappedTask,  # typed: it takes longest_countdown (fabrknt.ops.checks)
    longest_countdown=SYNC_PROVIDER_BACKOFF_MAX_SECONDS,
)
def sync_provider_addresses(self: Task, project_id: str, provider: str) -> str:
    """Make the provider's webhook watch the project's addresses; the sync's status. A
    transient failure (provider down, slow, rate limiting) is retried with backoff."""
    from trace.services.provider_sync import provider_addresses_sync

    state = provider_addresses_sync(
        project_id=project_id,
        provider=provider,
        may_retry=self.request.retries < SYNC_PROVIDER_MAX_RETRIES,
    )
    if state is None:
        return "gone"
    if state.retrying:
        raise self.retry(
            countdown=get_exponential_backoff_interval(
                factor=SYNC_PROVIDER_BACKOFF_SECONDS,
                retries=self.request.retries,
                maximum=SYNC_PROVIDER_BACKOFF_MAX_SECONDS,
                full_jitter=True,
            )
        )
    return state.status


# --- clicks -----------------------------------------------------------------------------

# Beat runs this every 5 s; a run drains at most this many batches so a backlog is
# spread over runs (consumer groups make overlapping runs safe: each reads its own).
FLUSH_CLICKS_MAX_BATCHES = 50


@shared_task(name="trace.flush_clicks", soft_time_limit=50, time_limit=60)
def flush_clicks() -> dict:
    """Drain the click stream into the database (an interrupted batch stays pending and
    is re-claimed by a later run: nothing is lost or stored twice)."""
    from trace.services.clicks.flush import clicks_flush

    result = clicks_flush(max_batches=FLUSH_CLICKS_MAX_BATCHES)
    return {"read": result.read, "inserted": result.inserted, "duplicates": result.duplicates}


@shared_task(name="trace.purge_expired_clicks", soft_time_limit=240, time_limit=300)
def purge_expired_clicks() -> dict:
    """Beat, daily: clicks older than CLICK_RETENTION_DAYS are rolled up into their
    campaign's daily counts and deleted (erased when a conversion refers to them), a
    batch of campaign-days a run; another run is queued while some are left."""
    from trace.services.clicks.retention import clicks_purge_expired

    result = clicks_purge_expired()
    if result.more:
        purge_expired_clicks.delay()
    return {"deleted": result.deleted, "erased": result.erased, "days": result.days}


@shared_task(name="trace.purge_identify_nonces", soft_time_limit=60, time_limit=90)
def purge_identify_nonces() -> int:
    """Beat, daily: delete the wallet-proof nonces that can no longer prove anything."""
    from trace.services.wallet_proof import identify_nonces_purge

    return identify_nonces_purge()


# --- metrics and bots -------------------------------------------------------------------


@shared_task(name="trace.aggregate_metrics", soft_time_limit=1500, time_limit=1800)
def aggregate_metrics(
    project_id: str | None = None, date_from: str | None = None, date_to: str | None = None
) -> dict:
    """Beat, daily: yesterday and today for every project (or the given project/range,
    ISO dates). Safe to re-run: rows are upserted per project and day. A project that
    fails is logged and reported in `failed`; the others are computed."""
    import datetime as dt

    from trace.services.metrics import metrics_backfill

    today = dt.datetime.now(dt.UTC).date()
    result = metrics_backfill(
        project_id=project_id,
        date_from=dt.date.fromisoformat(date_from) if date_from else today - dt.timedelta(days=1),
        date_to=dt.date.fromisoformat(date_to) if date_to else today,
    )
    return {"written": result.written, "failed": result.failed}


@shared_task(name="trace.detect_bots", soft_time_limit=1500, time_limit=1800)
def detect_bots(project_id: str | None = None) -> dict:
    """Beat, hourly: mark bot clicks and flag suspicious wallets (never overriding an
    operator's confirm/clear)."""
    from trace.services.bots import bots_detect

    return bots_detect(project_id=project_id)


# --- landing domains --------------------------------------------------------------------


@shared_task(name="trace.check_landing_domain", soft_time_limit=20, time_limit=30)
def check_landing_domain(landing_domain_id: str) -> bool:
    """Fetch one landing domain's verification file now and record the outcome; True when
    it is verified. A domain removed meanwhile is skipped."""
    from fabrknt.api.errors import NotFound
    from trace.models import LandingDomain
    from trace.services.domains import landing_domain_check

    landing_domain = LandingDomain.objects.filter(pk=landing_domain_id).first()
    if landing_domain is None:
        return False
    try:
        return landing_domain_check(landing_domain=landing_domain).verified_at is not None
    except NotFound:
        return False


# --- prices -----------------------------------------------------------------------------


@shared_task(name="trace.fetch_prices", soft_time_limit=60, time_limit=90)
def fetch_prices() -> dict:
    """Beat, hourly: today's USD price of every enabled asset from PRICE_FEED_URL. A feed
    that is down or garbled stores nothing and is retried by the next hour's run."""
    from trace.services.price_feed import prices_fetch

    result = prices_fetch()
    return {"stored": result.stored, "missing": list(result.missing), "error": result.error}


# --- contract control -------------------------------------------------------------------


@shared_task(name="trace.purge_contract_verification_nonces", soft_time_limit=60, time_limit=90)
def purge_contract_verification_nonces() -> int:
    """Beat, daily: forget verify-message texts that can no longer be used."""
    from trace.services.contract_control import contract_verification_nonces_purge

    return contract_verification_nonces_purge()
