"""Service settings, read from ``FEATIMP_*`` environment variables.

Nothing is read at import time: :func:`get_settings` builds the settings when
the app is created, so importing any module of the service needs no
environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.store.backend import check_database_url

#: Upper bounds of job parameters, wherever they appear in a job's ``params``
#: (a consensus member's too) or a trained model's ``params``. An int, or a
#: list of ints (``hidden_layer_sizes``), above its bound is refused; a
#: negative ``n_jobs`` means every CPU and counts as such.
DEFAULT_PARAM_CAPS = {
    "stability": 200,
    "n_permutations": 100,
    "n_repeats": 100,
    "n_neighbors": 100,
    "n_bins": 1000,
    "max_samples": 10_000,
    "n_background": 1000,
    "max_evals": 100_000,
    "n_grid": 100,
    "cv": 20,
    "n_seeds": 20,
    "grid_size": 100,
    "spline_order": 10,
    "max_iter": 10_000,
    "hidden_layer_sizes": 1024,
    "n_samples": 10_000,
    "max_joint": 1_000_000,
    "n_estimators": 5000,
    "max_depth": 32,
    "num_leaves": 131_072,
    "n_jobs": 4,
}


class Settings(BaseSettings):
    """Everything the service can be configured with.

    Examples
    --------
    >>> s = Settings(data_dir="/tmp/featimp", api_keys="k1, k2", workers=4)
    >>> s.api_keys, s.workers, s.database_url
    (['k1', 'k2'], 4, None)
    """

    model_config = SettingsConfigDict(env_prefix="FEATIMP_", extra="ignore")

    data_dir: Path = Field(
        Path("featimp-data"),
        description="Uploads, results and fitted selectors, and the SQLite "
        "metadata unless DATABASE_URL is set. Replicas on several hosts must "
        "all mount the same directory (e.g. NFS), as must Dask workers.",
    )
    database_url: str | None = Field(
        None,
        description="Keep the metadata in this PostgreSQL database "
        "(postgresql://user:password@host:5432/db) instead of SQLite in the "
        "data directory, so that several replicas share jobs and quotas.",
    )
    lease_seconds: float = Field(
        30,
        gt=0,
        description="A replica renews its lease every quarter of this; a "
        "replica silent for longer is presumed dead, and another one fails "
        "its running jobs.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Accepted X-API-Key values, comma separated. When empty, "
        "one key is generated on first start and written to DATA_DIR/api_key.",
    )
    workers: int = Field(2, ge=1, le=256, description="Local process pool size.")
    max_jobs_per_worker: int = Field(
        100, ge=1, description="A local worker process is replaced after this many."
    )
    dask_address: str | None = Field(
        None,
        description="Run jobs on this Dask scheduler (e.g. tcp://host:8786); "
        "'local' starts a LocalCluster inside the service.",
    )
    data_roots: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Directories whose Parquet and CSV files users may "
        'register by reference (POST /v1/datasets with {"uri": ...}), '
        "comma separated absolute paths. Jobs on such a dataset stream its "
        "files; nothing outside these directories can be named (403). Empty: "
        "no dataset can be registered by reference. Dask workers must reach "
        "the files by the same paths.",
    )
    max_upload_bytes: int = Field(512 * 1024**2, ge=1)
    max_rows: int = Field(5_000_000, ge=1)
    max_columns: int = Field(10_000, ge=1)
    max_dataset_bytes: int | None = Field(
        None,
        ge=1,
        validate_default=True,
        description="Largest dataset as stored, decoded (uncompressed Arrow); "
        "413 above, from a Parquet footer before any data is read, else as "
        "soon as the decoded rows pass it. Unset: 4 x MAX_UPLOAD_BYTES (a CSV "
        "of small numbers decodes to about 4 times its size).",
    )
    max_page_size: int = Field(10_000, ge=1)
    # Uploaded models: checked within these limits in the web process, then
    # loaded once in a sandbox process (see service.model_files).
    model_max_bytes: int = Field(64 * 1024**2, ge=1, description="Largest model file.")
    model_max_trees: int = Field(10_000, ge=1)
    model_max_nodes: int = Field(
        131_072, ge=1, description="Most nodes (splits and leaves) in one tree."
    )
    model_max_depth: int = Field(256, ge=1, description="Most splits on one path.")
    model_max_classes: int = Field(1000, ge=2)
    model_max_features: int = Field(10_000, ge=1)
    model_sandbox_memory_mb: int = Field(
        2048, ge=256, description="Address space of the process that tries a model."
    )
    model_sandbox_seconds: float = Field(
        30, gt=0, description="Wall-clock and CPU time that process may take."
    )
    # Uploaded tables: parsed in these processes, never in the web process
    # (see service.parsing).
    upload_workers: int = Field(
        2, ge=1, le=64, description="Processes that parse uploaded tables."
    )
    upload_sandbox_memory_mb: int = Field(
        2048,
        ge=1024,
        description="Address space of each of them (Arrow reserves much of it "
        "up front); 413 above.",
    )
    upload_sandbox_seconds: float = Field(
        120,
        gt=0,
        description="CPU time that parsing one upload may take (and twice "
        "that in wall-clock time).",
    )
    log_level: str = "INFO"
    max_json_bytes: int = Field(
        1024**2,
        ge=1,
        description="Largest JSON request body (a job, a transform); 413 above.",
    )
    result_retention_days: float | None = Field(
        None,
        gt=0,
        description="Delete jobs that ended longer ago than this, with their "
        "results (not the selectors they fitted). Unset: jobs stay until "
        "DELETE /v1/jobs/{id}.",
    )
    retention_sweep_seconds: float = Field(
        3600, gt=0, description="How often expired jobs are looked for."
    )
    transform_workers: int = Field(
        1, ge=1, le=64, description="Processes that apply fitted selectors."
    )

    # Jobs: limits enforced on every job (the local pool enforces all of
    # them; on Dask the deadline only, memory is the cluster's business).
    job_deadline_seconds: float = Field(
        3600,
        ge=0,
        description="Wall-clock time a job may run; it is then stopped and "
        "failed. 0: no deadline.",
    )
    job_memory_mb: int = Field(
        4096,
        ge=0,
        description="Memory a job may add to its worker process (and the "
        "processes it starts); the job is then stopped and failed. 0: no limit.",
    )
    cancel_grace_seconds: float = Field(
        5,
        gt=0,
        description="After SIGTERM, how long a canceled or stopped worker has "
        "before SIGKILL.",
    )
    shutdown_grace_seconds: float = Field(
        20,
        ge=0,
        description="On shutdown (SIGTERM), how long running jobs may take to "
        "finish; the rest are queued again for the next start.",
    )
    # Per API key.
    max_queued_jobs_per_key: int = Field(
        100, ge=1, description="Queued jobs one key may have; 429 above."
    )
    max_running_jobs_per_key: int = Field(
        0,
        ge=0,
        description="Jobs of one key that run at once; 0: as many as there are "
        "workers. Keys take turns for free workers either way.",
    )
    max_datasets_per_key: int = Field(
        1000, ge=1, description="Datasets one key may store; 507 above."
    )
    max_stored_bytes_per_key: int = Field(
        20 * 1024**3,
        ge=1,
        description="Bytes of datasets and models (as uploaded) one key may "
        "store; 507 above.",
    )
    rate_limit_per_second: float = Field(
        50,
        ge=0,
        description="Requests per second one key may make on /v1, on average; "
        "429 with Retry-After above. 0: no limit.",
    )
    rate_limit_burst: int = Field(
        200, ge=1, description="Requests one key may make at once above the rate."
    )
    param_caps: dict[str, int] = Field(
        default_factory=dict,
        validate_default=True,
        description="Upper bounds of job parameters by name, as JSON (e.g. "
        "'{\"stability\": 50}'); each replaces the default bound of the "
        "parameter it names (DEFAULT_PARAM_CAPS).",
    )
    # Disk: below min_free_disk_bytes uploads and new jobs get a 507 and
    # /readyz a 503; the reserve is a file the service deletes when the disk
    # fills, so that deletes and job outcomes can still be written.
    min_free_disk_bytes: int = Field(64 * 1024**2, ge=0)
    disk_reserve_bytes: int = Field(32 * 1024**2, ge=0)

    @field_validator("param_caps", mode="before")
    @classmethod
    def _caps_from_json(cls, value):
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("param_caps", mode="after")
    @classmethod
    def _with_default_caps(cls, value: dict[str, int]) -> dict[str, int]:
        return {**DEFAULT_PARAM_CAPS, **value}

    @field_validator("max_dataset_bytes", mode="after")
    @classmethod
    def _dataset_bytes(cls, value: int | None, info) -> int | None:
        # Without a valid max_upload_bytes, that field's error is reported.
        if value is None and "max_upload_bytes" in info.data:
            return 4 * info.data["max_upload_bytes"]
        return value

    @field_validator("database_url", mode="after")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        return check_database_url(value) if value else None

    @field_validator("data_roots", mode="before")
    @classmethod
    def _split_roots(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return [str(r).strip() for r in value if r and str(r).strip()]

    @field_validator("data_roots", mode="after")
    @classmethod
    def _absolute_roots(cls, value: list[str]) -> list[str]:
        relative = [r for r in value if not os.path.isabs(r)]
        if relative:
            raise ValueError(
                f"FEATIMP_DATA_ROOTS must be absolute paths, got {relative}"
            )
        return [os.path.realpath(r) for r in value]

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return [k.strip() for k in value if k and k.strip()]


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with keyword overrides on top."""
    return Settings(**overrides)
