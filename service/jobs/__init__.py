"""The service's application layer: the only code of the service that
imports featimp, and only its public names.

:mod:`~service.jobs.catalog` lists the methods, :mod:`~service.jobs.validate`
checks a request before it is queued and :mod:`~service.jobs.submit` queues
it; the executors call :func:`run_job` (:mod:`~service.jobs.run`), which
runs a rank or select job (:mod:`~service.jobs.rank`) or a responsiveness
job (:mod:`~service.jobs.responsiveness`).
"""

from service.jobs.catalog import featimp_version, method_catalog, method_names
from service.jobs.rank import transform_dataset
from service.jobs.responsiveness import read_report, report_page
from service.jobs.run import JobStopped, job_problem, run_job, run_job_on_dask
from service.jobs.submit import submit_job
from service.jobs.validate import JobRejected, validate_job

__all__ = [
    "JobRejected",
    "JobStopped",
    "featimp_version",
    "job_problem",
    "method_catalog",
    "method_names",
    "read_report",
    "report_page",
    "run_job",
    "run_job_on_dask",
    "submit_job",
    "transform_dataset",
    "validate_job",
]
