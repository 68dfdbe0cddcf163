"""This ``featimp serve`` process as one replica among those of a database.

:class:`Replica` registers the process (see :mod:`service.store.replicas`),
fails at startup the jobs of replicas that are gone, and then keeps its
lease with a heartbeat thread that, each quarter of the lease, also
removes the replicas presumed dead and fails their running jobs. With
SQLite there is usually one replica; with PostgreSQL, one per host.
"""

from __future__ import annotations

import logging
import threading

from service.store import Store
from service.store import jobs as job_store
from service.store import replicas as replica_store
from service.store.db import new_id

log = logging.getLogger("service")


class Replica:
    """Registers, recovers and keeps the lease of this process."""

    def __init__(self, store: Store, *, lease_seconds: float):
        self.store = store
        self.lease_seconds = lease_seconds
        self.id = new_id()
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name="featimp-heartbeat", daemon=True
        )

    def register(self) -> int:
        """Remove the replicas that are gone (a predecessor on this host at
        once), register, and return how many others remain."""
        replica_store.remove_dead(
            store=self.store,
            replica_id=self.id,
            lease_seconds=self.lease_seconds,
            restarted=True,
        )
        replica_store.register(store=self.store, replica_id=self.id)
        return replica_store.others(store=self.store, replica_id=self.id)

    def recover(self) -> tuple[list[str], list[str]]:
        """``(failed, queued)``: see :func:`~service.store.jobs.recover_jobs`."""
        return job_store.recover_jobs(store=self.store)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the heartbeat and leave: call after the executor drained."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(10)
        try:
            replica_store.deregister(store=self.store, replica_id=self.id)
        except Exception:  # pragma: no cover - the others' sweep removes it
            log.exception("could not deregister replica %s", self.id)

    def _beat(self) -> None:
        while not self._stopped.wait(self.lease_seconds / 4):
            try:
                self.sweep()
            except Exception:
                log.exception("heartbeat failed; trying again")

    def sweep(self) -> list[str]:
        """Renew the lease, remove dead replicas, fail their jobs; those ids."""
        store = self.store
        if not replica_store.renew(store=store, replica_id=self.id):
            log.warning(
                "this replica was presumed dead (no heartbeat for %g s) and "
                "its running jobs failed; registering again",
                self.lease_seconds,
            )
            replica_store.register(store=store, replica_id=self.id)
        dead = replica_store.remove_dead(
            store=store, replica_id=self.id, lease_seconds=self.lease_seconds
        )
        failed = job_store.fail_orphaned_jobs(store=store)
        if dead or failed:
            log.warning(
                "replicas presumed dead",
                extra={"replicas": dead, "failed_jobs": failed},
            )
        return failed
