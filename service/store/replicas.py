"""Replicas: the ``featimp serve`` processes that share one database.

Each registers at startup with a random id, its host and its pid, then
renews its heartbeat every quarter of the lease (``FEATIMP_LEASE_SECONDS``);
the jobs it runs record its id. Heartbeats are read from the database's
clock, so the hosts' clocks need not agree. A replica whose heartbeat is
older than the lease is presumed dead: any other removes it, and then fails
its running jobs (:func:`~service.store.jobs.fail_orphaned_jobs`).

A replica starting on the host of one whose process is gone (the same boot
and PID namespace, where a pid names one process) removes it at once: a
restart after a crash does not wait out the lease.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from service.store.db import Store, now


def host_key() -> str:
    """Where a pid names one process: this kernel's boot and PID namespace."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:  # not Linux
        return socket.gethostname()
    return f"{boot}:{namespace}"


def register(*, store: Store, replica_id: str) -> None:
    """Add this process as ``replica_id``, its heartbeat taken now."""
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO replicas (id, host, host_key, pid, started_at, heartbeat) "
            f"VALUES (?, ?, ?, ?, ?, {store.backend.clock})",
            (replica_id, socket.gethostname(), host_key(), os.getpid(), now()),
        )


def renew(*, store: Store, replica_id: str) -> bool:
    """Renew the heartbeat; False if the replica was presumed dead meanwhile."""
    with store.connect() as conn:
        cursor = conn.execute(
            f"UPDATE replicas SET heartbeat = {store.backend.clock} WHERE id = ?",
            (replica_id,),
        )
    return cursor.rowcount == 1


def deregister(*, store: Store, replica_id: str) -> None:
    with store.connect() as conn:
        conn.execute("DELETE FROM replicas WHERE id = ?", (replica_id,))


def remove_dead(
    *, store: Store, replica_id: str, lease_seconds: float, restarted: bool = False
) -> list[str]:
    """Remove the replicas presumed dead, other than ``replica_id``; their ids.

    Those whose heartbeat is older than ``lease_seconds`` and, when this
    replica has just ``restarted``, those on this host whose process is gone.
    """
    with store.connect() as conn:
        dead = [
            row[0]
            for row in conn.execute(
                "DELETE FROM replicas WHERE id <> ? AND "
                f"heartbeat < {store.backend.clock} - ? RETURNING id",
                (replica_id, lease_seconds),
            ).fetchall()
        ]
        if restarted:
            here = host_key()
            gone = [
                row[0]
                for row in conn.execute(
                    "SELECT id, pid FROM replicas WHERE id <> ? AND host_key = ?",
                    (replica_id, here),
                ).fetchall()
                if not _running(row[1])
            ]
            for gone_id in gone:
                conn.execute("DELETE FROM replicas WHERE id = ?", (gone_id,))
            dead += gone
    return sorted(dead)


def others(*, store: Store, replica_id: str) -> int:
    """How many other replicas are registered."""
    with store.connect() as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM replicas WHERE id <> ?", (replica_id,)
        ).fetchone()
    return count


def _running(pid: int) -> bool:
    """Whether process ``pid`` of this PID namespace runs (not a zombie)."""
    if pid == os.getpid():  # a predecessor that had our pid: we are not it
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
