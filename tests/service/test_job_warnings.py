"""Warnings of jobs that share a process (threads of one Dask worker)."""

import threading
import warnings

from service import job_warnings


def _job(name: str, started: threading.Barrier, out: dict) -> None:
    with job_warnings.capture() as caught:
        started.wait()  # both jobs are inside capture() before either warns
        for i in range(50):
            warnings.warn(f"{name} {i % 5}", UserWarning, stacklevel=1)
        started.wait()
    out[name] = [str(w.message) for w in caught]


def test_concurrent_jobs_keep_their_own_warnings():
    started, out = threading.Barrier(2), {}
    threads = [
        threading.Thread(target=_job, args=(name, started, out)) for name in "ab"
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in "ab":
        assert len(out[name]) == 50  # every repeat, and only its own
        assert {m.split()[0] for m in out[name]} == {name}


def test_a_later_job_sees_a_warning_an_earlier_job_raised():
    def warn():
        warnings.warn("column 'x' cannot be used", UserWarning, stacklevel=1)

    for _ in range(2):
        with job_warnings.capture() as caught:
            warn()
        assert [str(w.message) for w in caught] == ["column 'x' cannot be used"]


def test_warnings_of_helper_threads_go_to_the_only_running_job():
    with job_warnings.capture() as caught:
        t = threading.Thread(target=warnings.warn, args=("from a joblib thread",))
        t.start()
        t.join()
    assert [str(w.message) for w in caught] == ["from a joblib thread"]
