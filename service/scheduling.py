"""Which queued job runs next: API keys take turns for free workers.

First come, first served let one key's 10,000 jobs hold every worker while
another key's single job waited behind all of them. Now a free worker takes
the oldest queued job of the key that runs the fewest jobs, and among those
of the key served longest ago; a key may also be held to
``max_running_per_owner`` jobs at once.
"""

from __future__ import annotations

import itertools
import threading

from service.store import Store
from service.store import jobs as job_store


class FairQueue:
    """Claims queued jobs of the store in turn across their owners."""

    def __init__(self, store: Store, *, max_running_per_owner: int | None = None):
        self.store = store
        self.max_running_per_owner = max_running_per_owner or None
        self._turns = itertools.count()
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim(
        self, *, lease: str, executor: str, replica: str | None = None
    ) -> str | None:
        """Start the next job under ``lease``; its id, or None if none may run.

        The per-owner cap is checked again as the job is claimed, so other
        replicas claiming at once cannot pass it.
        """
        with self._lock:
            for queue in self._order(job_store.queued_owners(store=self.store)):
                job_id = job_store.claim_job(
                    store=self.store,
                    owner=queue.owner,
                    lease=lease,
                    executor=executor,
                    replica=replica,
                    max_running=self.max_running_per_owner,
                )
                if job_id is not None:
                    self._served[queue.owner] = next(self._turns)
                    return job_id
        return None

    def _order(self, queues: list[job_store.OwnerQueue]) -> list:
        cap = self.max_running_per_owner
        return sorted(
            (q for q in queues if cap is None or q.running < cap),
            key=lambda q: (q.running, self._served.get(q.owner, -1), q.oldest),
        )
