"""Settings of the server bench/clicks.py starts: the project's own, plus the naive
baseline view's URL and tables built straight from the models (no migration history)."""

from fabrknt.settings import *  # noqa: F403

ROOT_URLCONF = "bench.click_baseline"


class _NoMigrations(dict):
    def __contains__(self, app_label: object) -> bool:
        return True

    def __getitem__(self, app_label: str) -> None:
        return None


MIGRATION_MODULES = _NoMigrations()
