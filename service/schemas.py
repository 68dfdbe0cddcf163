"""The pydantic contracts of the API, split by role (Create / Public / list)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
#: At most this many distinct warnings are kept on a job.
MAX_JOB_WARNINGS = 20


class FieldError(BaseModel):
    """One field at fault in a request."""

    field: str = Field(description="The field, dotted: 'params.n_bins'.")
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: the body of every 4xx and 5xx response, as
    application/problem+json, and the error of a failed job."""

    type: str = "about:blank"
    title: str
    status: int = Field(ge=100, le=599)
    detail: str
    instance: str | None = Field(None, description="The path requested.")
    errors: list[FieldError] | None = Field(
        None, description="The fields at fault, when the problem is in the request."
    )


class ColumnPublic(BaseModel):
    name: str
    dtype: str
    n_missing: int | None = Field(
        description="Missing values; null when a dataset registered by "
        "reference does not say without reading it (CSV, or Parquet row "
        "groups without statistics)."
    )


class DatasetReferenceCreate(BaseModel):
    """Register files of yours under the operator's allowed roots."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"uri": "/data/events/*.parquet"}]},
    )

    uri: str = Field(
        min_length=1,
        max_length=4096,
        description="A Parquet or CSV file, a directory of them or a glob, as "
        "an absolute path or a file:// URL, under FEATIMP_DATA_ROOTS.",
    )
    name: str | None = Field(None, max_length=200)


class DatasetPublic(BaseModel):
    id: str
    name: str
    format: Literal["csv", "parquet"]
    size_bytes: int
    n_rows: int | None = Field(
        description="Null for CSV files registered by reference (not counted "
        "without reading them)."
    )
    n_columns: int
    columns: list[ColumnPublic]
    created_at: str
    uri: str | None = Field(
        None,
        description="For a dataset registered by reference, its URI; its "
        "files are read in place and jobs stream them.",
    )
    n_files: int | None = Field(None, description="Files of a referenced dataset.")


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

    type: Literal["rank", "select"] = Field(
        "rank",
        description="rank: scores; select: also stores the fitted selector; "
        "responsiveness: see ResponsivenessJobCreate.",
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

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value):
        # Other types reach this schema too (see JobRequest): name them all.
        if value not in ("rank", "select"):
            raise ValueError("type must be one of 'rank', 'select', 'responsiveness'")
        return value


_ID_PATTERN = r"^[0-9a-f]{32}$"
_GERMAN_ACTION_SET_EXAMPLE = {
    "features": [
        {
            "name": "Age",
            "kind": "int",
            "lb": 19,
            "ub": 75,
            "actionable": False,
            "step_direction": 1,
            "step_lb": None,
            "step_ub": None,
            "grid": None,
        },
        {
            "name": "SavingsAcct_geq_100",
            "kind": "bool",
            "lb": 0,
            "ub": 1,
            "actionable": True,
            "step_direction": 1,
            "step_lb": None,
            "step_ub": None,
            "grid": None,
        },
    ],
    "constraints": [],
}


class ModelSpec(BaseModel):
    """The model to explain: trained by the service, or an uploaded file."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["logistic_regression", "xgboost", "lightgbm"] | None = Field(
        None,
        description="Train this classifier on the dataset's action-set columns "
        "(LightGBM gets verbose=-1 unless params say otherwise).",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Parameters of the classifier to train."
    )
    model_id: str | None = Field(
        None,
        pattern=_ID_PATTERN,
        description="A model uploaded to POST /v1/models (XGBoost JSON or "
        "LightGBM text); its classes are 0..n_classes-1.",
    )

    @model_validator(mode="after")
    def _one_source(self):
        if (self.type is None) == (self.model_id is None):
            raise ValueError("give either 'type' (train) or 'model_id' (uploaded)")
        if self.model_id is not None and self.params:
            raise ValueError("'params' only apply to a model the service trains")
        return self


class RowsSpec(BaseModel):
    """Which rows to explain."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str | None = Field(
        None,
        pattern=_ID_PATTERN,
        description="A second dataset to explain; default: the job's dataset.",
    )
    filter: Literal["denied", "approved", "all"] = Field(
        "denied",
        description="denied: rows the model does not predict as 'desired'.",
    )


class ResponsivenessJobCreate(BaseModel):
    """Feature responsiveness scores of individual rows (recourse)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "responsiveness",
                    "dataset_id": "3f2a0c9e8d7b4a6f9e1d2c3b4a5f6e7d",
                    "target": "IsCreditRiskGood",
                    "action_set": _GERMAN_ACTION_SET_EXAMPLE,
                    "model": {
                        "type": "logistic_regression",
                        "params": {"max_iter": 2000},
                    },
                    "rows": {"filter": "denied"},
                    "desired": 1,
                }
            ]
        },
    )

    type: Literal["responsiveness"]
    dataset_id: str = Field(
        pattern=_ID_PATTERN,
        description="Training data of a model the service trains, and the rows "
        "to explain unless rows.dataset_id is given.",
    )
    target: str | None = Field(
        None,
        description="Label column; needed to train, dropped from the rows.",
    )
    action_set: dict[str, Any] = Field(
        description="ActionSet.to_dict() (or the output of `featimp action-set "
        "init`): one entry per feature, in the order the features are scored, "
        "plus constraints; with 'raw_columns', the datasets hold the user's own "
        "columns (text, categories, missing values), encoded as it says.",
    )
    model: ModelSpec
    rows: RowsSpec = Field(default_factory=RowsSpec)
    desired: int | str | bool = Field(
        1, description="The prediction that is recourse (approval)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameters of ResponsivenessExplainer: method, n_samples, "
        "random_state, certify, max_joint, n_jobs, rule ('per_value' or "
        "'reference'), n_actions (options per applicant in the report).",
    )
    n_reasons: int = Field(
        4,
        ge=1,
        le=50,
        description="Principal reasons per applicant in the report "
        "(GET /v1/jobs/{id}/report).",
    )


def _job_kind(value) -> str:
    if isinstance(value, dict):
        kind = value.get("type")
    else:
        kind = getattr(value, "type", None)
    # Anything else goes to the rank/select schema, whose error names 'type'
    # (or, for a body that is not an object, says that it must be one).
    return "responsiveness" if kind == "responsiveness" else "rank"


#: The body of POST /v1/jobs: the ``type`` field picks the schema.
JobRequest = Annotated[
    Annotated[JobCreate, Tag("rank")]
    | Annotated[ResponsivenessJobCreate, Tag("responsiveness")],
    Discriminator(_job_kind),
]
#: Schema tags pydantic puts in error locations; users never see them.
JOB_REQUEST_TAGS = ("rank", "responsiveness")


class JobSummary(BaseModel):
    """A job as listed: everything but its request (see :class:`JobPublic`)."""

    id: str
    type: str
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    stage: str
    dataset_id: str
    executor: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: ProblemDetails | None
    result_rows: int | None
    selector_id: str | None
    warnings: list[str] = Field(
        default_factory=list,
        description="Warnings raised while the job ran, one message each "
        f"(repeats kept once, at most {MAX_JOB_WARNINGS}), e.g. feature columns "
        "that cannot be used (entirely missing, dates, numbers mixed with "
        "text), which score 0. The job still succeeds.",
    )
    links: dict[str, str]


class JobPublic(JobSummary):
    """A job with the request it was started with."""

    request: dict = Field(
        description="The request as accepted, defaults filled in. Only here, "
        "not in GET /v1/jobs: a request may be large (an action set, a list "
        "of features), and a listing would send every one of them again."
    )


class JobsPublic(BaseModel):
    data: list[JobSummary]
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


class InputTagsPublic(BaseModel):
    """Which feature columns a method reads (its scikit-learn input tags).

    A job whose features the method does not read is refused with a 422
    naming the columns.
    """

    categorical: bool = Field(description="Categorical (dictionary) columns.")
    string: bool = Field(description="Text columns.")
    allow_nan: bool = Field(description="Missing values (empty cells).")


class MethodPublic(BaseModel):
    name: str
    summary: str
    tasks: list[str]
    input_tags: InputTagsPublic
    parameters: list[ParameterPublic]
    streams: bool = Field(
        description="Whether rank jobs on datasets registered by reference "
        "can use it: it is computed from counts and sums that add up over "
        "batches of rows."
    )
    stream_parameters: list[str] = Field(
        description="The parameters it takes when it streams (selection by "
        "n_features_to_select or threshold applies to the ranking)."
    )


class MethodsPublic(BaseModel):
    data: list[MethodPublic]
    count: int


class ModelPublic(BaseModel):
    id: str
    name: str
    format: Literal["xgboost-json", "lightgbm-text"]
    size_bytes: int
    objective: str
    n_classes: int
    n_features: int
    feature_names: list[str] | None
    created_at: str


class ModelsPublic(BaseModel):
    data: list[ModelPublic]
    count: int


class HealthPublic(BaseModel):
    """What the service can do now; ``problems`` says why it is degraded."""

    status: Literal["ok", "degraded"]
    version: str
    executor: str
    workers: int = Field(description="Workers configured (FEATIMP_WORKERS).")
    workers_alive: int = Field(description="Workers that can take a job now.")
    jobs_running: int
    jobs_queued: int
    accepting_jobs: bool = Field(
        description="False while the service drains to shut down."
    )
    disk_free_bytes: int | None = Field(
        description="Free space of the data directory's filesystem."
    )
    problems: list[str] = Field(
        default_factory=list, description="What degrades the service, if anything."
    )
