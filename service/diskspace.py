"""A full disk: a 507 for requests, a failed job for jobs, never a dead worker.

The service keeps a *reserve*, a file of ``FEATIMP_DISK_RESERVE_BYTES`` in the
data directory. It is deleted as soon as the disk is found full (or free
space drops under ``FEATIMP_MIN_FREE_DISK_BYTES``), so that what frees space
(``DELETE``) and the outcomes of running jobs can still be written to SQLite:
with no byte left, even a delete cannot append to the write-ahead log (a
database of its own answers the same way when its disk is full:
:class:`~service.store.StorageFull`). Until
there is room for the reserve again, uploads and new jobs get a 507 and
``/readyz`` a 503.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("service.disk")

RESERVE_NAME = "disk-reserve"
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_CHUNK = 1024**2
#: Where to free space, for the details of 507s and failed jobs.
HOW_TO_FREE = (
    "delete datasets, models or ended jobs that are no longer needed "
    "(DELETE /v1/datasets/{id}, /v1/models/{id}, /v1/jobs/{id}), or ask the "
    "operator for space"
)


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk or quota.

    Examples
    --------
    >>> is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    True
    >>> from service.store import StorageFull
    >>> is_disk_full(StorageFull("database or disk is full"))
    True
    >>> is_disk_full(ValueError("no"))
    False
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        # StorageFull, whichever database filled up, is an ENOSPC OSError.
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def reserve_path(data_dir) -> Path:
    return Path(data_dir) / RESERVE_NAME


def release_reserve(data_dir) -> bool:
    """Delete the reserve (any process may); True if there was one."""
    try:
        reserve_path(data_dir).unlink()
    except FileNotFoundError:
        return False
    log.warning("the disk is full: released the disk reserve")
    return True


@dataclass(frozen=True)
class DiskState:
    free_bytes: int | None
    reserve_present: bool
    #: Why the disk counts as full, or None.
    low: str | None


class DiskSpace:
    """Free space of the data directory, and its reserve."""

    def __init__(self, data_dir, *, min_free_bytes: int, reserve_bytes: int):
        self.data_dir = Path(data_dir)
        self.min_free_bytes = min_free_bytes
        self.reserve_bytes = reserve_bytes

    @classmethod
    def from_settings(cls, settings, data_dir) -> DiskSpace:
        return cls(
            data_dir,
            min_free_bytes=settings.min_free_disk_bytes,
            reserve_bytes=settings.disk_reserve_bytes,
        )

    def free_bytes(self) -> int | None:
        try:
            return shutil.disk_usage(self.data_dir).free
        except OSError:
            return None

    def refresh(self) -> DiskState:
        """Release the reserve when space runs out, make it again when there
        is room for it twice over (so that it does not come and go).

        Requests may do this at once: two releases or two new reserves are
        harmless.
        """
        free = self.free_bytes()
        path = reserve_path(self.data_dir)
        present = path.exists()
        if free is not None and self.reserve_bytes:
            if present and free < self.min_free_bytes:
                present = not release_reserve(self.data_dir)
                free = self.free_bytes()
            elif not present and free >= self.min_free_bytes + 2 * self.reserve_bytes:
                present = self._make_reserve(path)
                free = self.free_bytes()
        return DiskState(free, present, self._low(free, present))

    def _low(self, free: int | None, present: bool) -> str | None:
        if free is not None and free < self.min_free_bytes:
            return (
                f"the disk of the data directory is full: {free} bytes free, "
                f"under the minimum of {self.min_free_bytes} "
                "(FEATIMP_MIN_FREE_DISK_BYTES)"
            )
        if self.reserve_bytes and not present:
            return (
                "the disk of the data directory was full and has not yet room "
                f"for its reserve of {self.reserve_bytes} bytes "
                f"({free} bytes free)"
            )
        return None

    def _make_reserve(self, path: Path) -> bool:
        # In tmp/, which every start empties.
        tmp = self.data_dir / "tmp" / f"{RESERVE_NAME}-{uuid.uuid4().hex}.partial"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                _fill(fd, self.reserve_bytes)
            finally:
                os.close(fd)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning("could not make the disk reserve: %s", exc)
            return False
        return True

    def room_problem(self, incoming: int = 0) -> str | None:
        """Why ``incoming`` more bytes cannot be stored, or None."""
        state = self.refresh()
        if state.low is not None or state.free_bytes is None:
            return state.low
        if state.free_bytes - incoming < self.min_free_bytes:
            return (
                f"the disk of the data directory has {state.free_bytes} bytes "
                f"free: not enough for {incoming} more and the minimum of "
                f"{self.min_free_bytes} (FEATIMP_MIN_FREE_DISK_BYTES)"
            )
        return None


def _fill(fd: int, size: int) -> None:
    try:
        os.posix_fallocate(fd, 0, size)
        return
    except (AttributeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            raise
    zeros = bytes(_CHUNK)
    for start in range(0, size, _CHUNK):
        os.write(fd, zeros[: min(_CHUNK, size - start)])
