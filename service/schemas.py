"""The pydantic contracts of the API, split by role (Create / Public / list)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobType = Literal["rank", "select"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
TableFormat = Literal["json", "csv", "parquet"]


class ProblemPublic(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict] | None = None


class ColumnPublic(BaseModel):
    name: str
    dtype: str
    n_missing: int


class DatasetPublic(BaseModel):
    id: str
    name: str
    format: Literal["csv", "parquet"]
    size_bytes: int
    n_rows: int
    n_columns: int
    columns: list[ColumnPublic]
    created_at: str


class DatasetsPublic(BaseModel):
    data: list[DatasetPublic]
    count: int


class JobCreate(BaseModel):
    """A batch job: rank the features of a dataset, or fit a selector."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "rank",
                    "dataset_id": "3f2a0c9e8d7b4a6f9e1d2c3b4a5f6e7d",
                    "target": "default",
                    "method": "mi",
                    "params": {"n_features_to_select": 10, "random_state": 0},
                },
            ]
        },
    )

    type: JobType = Field(
        "rank", description="rank: scores; select: also stores the fitted selector."
    )
    dataset_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    target: str | None = Field(
        None, description="Target column; omit for unsupervised methods."
    )
    method: str = Field(description="A method name from GET /v1/methods.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Parameters of the method's selector."
    )
    task: Literal["auto", "classification", "regression"] = "auto"
    features: list[str] | None = Field(
        None, description="Columns to rank; default: every column but the target."
    )


class JobPublic(BaseModel):
    id: str
    type: str
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    stage: str
    dataset_id: str
    request: dict
    executor: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: ProblemPublic | None
    result_rows: int | None
    selector_id: str | None
    links: dict[str, str]


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int


class ResultPage(BaseModel):
    job_id: str
    columns: list[str]
    data: list[dict[str, Any]]
    count: int = Field(description="Rows in the whole result.")
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class SelectorPublic(BaseModel):
    id: str
    job_id: str
    method: str
    params: dict[str, Any]
    features_in: list[str]
    selected: list[str]
    created_at: str


class SelectorsPublic(BaseModel):
    data: list[SelectorPublic]
    count: int


class TransformRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"dataset_id": "3f2a0c9e8d7b4a6f9e1d2c3b4a5f6e7d", "format": "csv"}
            ]
        },
    )

    dataset_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    format: Literal["csv", "parquet"] = "csv"


class ParameterPublic(BaseModel):
    name: str
    default: Any
    constraints: list[str]


class MethodPublic(BaseModel):
    name: str
    summary: str
    tasks: list[str]
    parameters: list[ParameterPublic]


class MethodsPublic(BaseModel):
    data: list[MethodPublic]
    count: int


class HealthPublic(BaseModel):
    status: Literal["ok"]
    version: str
    executor: str
    workers: int
