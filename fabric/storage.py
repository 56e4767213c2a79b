"""FABRIC's named storages (settings.STORAGES `dataroom` and `media`) for its FileFields.

A FileField calls its `storage=` callable once, when the model class is built; these proxies
look the storage up when first used, and again after settings.STORAGES changes (tests
point them at a local S3 server), so the fields always write where the settings say. A
proxy passes isinstance() checks for the storage it stands for: `isinstance(storage,
FileSystemStorage)` means files on this server's disk, which only our own views serve.
"""

from __future__ import annotations

from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

DATAROOM = "dataroom"
MEDIA = "media"


class NamedStorage(LazyObject):
    """settings.STORAGES[alias], resolved on first use."""

    def __init__(self, alias: str) -> None:
        super().__init__()
        self.__dict__["alias"] = alias

    def _setup(self) -> None:
        self._wrapped = storages[self.__dict__["alias"]]

    def __deepcopy__(self, memo: dict[int, object]) -> NamedStorage:
        return self  # one proxy per alias: copies of a field share it

    def forget(self) -> None:
        """Look the storage up again on next use."""
        self._wrapped = empty  # type: ignore[assignment]  # LazyObject's own sentinel


_dataroom_storage = NamedStorage(DATAROOM)
_media_storage = NamedStorage(MEDIA)


def dataroom_storage() -> Storage:
    return _dataroom_storage  # type: ignore[return-value]


def media_storage() -> Storage:
    return _media_storage  # type: ignore[return-value]


@receiver(setting_changed)
def _storages_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "STORAGES":
        for proxy in (_dataroom_storage, _media_storage):
            proxy.forget()
