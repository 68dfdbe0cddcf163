"""Service settings, read from ``FEATIMP_*`` environment variables.

Nothing is read at import time: :func:`get_settings` builds the settings when
the app is created, so importing any module of the service needs no
environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be configured with.

    Examples
    --------
    >>> s = Settings(data_dir="/tmp/featimp", api_keys="k1, k2", workers=4)
    >>> s.api_keys, s.workers, s.database_path.name
    (['k1', 'k2'], 4, 'featimp.sqlite3')
    """

    model_config = SettingsConfigDict(env_prefix="FEATIMP_", extra="ignore")

    data_dir: Path = Field(
        Path("featimp-data"),
        description="SQLite metadata, uploads, results and fitted selectors.",
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
    max_upload_bytes: int = Field(512 * 1024**2, ge=1)
    max_rows: int = Field(5_000_000, ge=1)
    max_columns: int = Field(10_000, ge=1)
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
    log_level: str = "INFO"
    max_json_bytes: int = Field(
        1024**2,
        ge=1,
        description="Largest JSON request body (a job, a transform); 413 above.",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return [k.strip() for k in value if k and k.strip()]

    @property
    def database_path(self) -> Path:
        return self.data_dir / "featimp.sqlite3"


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with keyword overrides on top."""
    return Settings(**overrides)
