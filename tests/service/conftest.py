"""The featimp service for the tests: in this process (:class:`App`, the app
under a TestClient), or, for what needs a process of its own (restarts,
kill -9, SIGTERM, replicas), a real one in a uvicorn subprocess on
127.0.0.1 and a free port (:class:`Server`); stores on either backend
(SQLite, or a schema on the PostgreSQL server of ``FEATIMP_TEST_DATABASE_URL``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests._shared import fast_params

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from service.config import Settings  # noqa: E402
from service.main import create_app  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KEY_A, KEY_B = "test-key-alice", "test-key-bob"
MAX_UPLOAD_BYTES = 8 * 1024**2
#: The settings of both kinds of test service, over the defaults.
TEST_SETTINGS = {
    "api_keys": f"{KEY_A},{KEY_B}",
    "max_upload_bytes": MAX_UPLOAD_BYTES,
    # The tests poll every 50 ms, from up to 20 threads with one key;
    # test_quotas checks the limit.
    "rate_limit_per_second": 0,
    # Stopped at once: a test's job still running is requeued.
    "shutdown_grace_seconds": 0,
}
STARTUP_SECONDS = 60
JOB_SECONDS = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m service`` in a subprocess; restartable on the same data dir."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 2,
        env: dict | None = None,
        command_prefix: tuple[str, ...] = (),
        database_url: str | None = None,
        name: str | None = None,
    ):
        self.data_dir = data_dir
        self.workers = workers
        self.env = env or {}
        if database_url is not None:
            self.env["FEATIMP_DATABASE_URL"] = database_url
        #: Runs the service, e.g. ``("unshare", ...)``: it must exec it.
        self.command_prefix = command_prefix
        self.process = None
        self.port = None
        self.log_path = data_dir.parent / f"{name or data_dir.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            **{f"FEATIMP_{k.upper()}": str(v) for k, v in TEST_SETTINGS.items()},
            **self.env,
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *self.command_prefix,
                sys.executable,
                "-m",
                "service",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--workers",
                str(self.workers),
            ],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"service did not start: {self.log_path.read_text()}")

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, key: str | None = KEY_A) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


class _Client(TestClient):
    """A client of an app whose lifespan another client runs: ``with`` only
    closes it (entering a TestClient would start the app a second time)."""

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def make_app(data_dir: Path, **settings) -> FastAPI:
    """The app, with :data:`TEST_SETTINGS` under ``settings``."""
    return create_app(Settings(data_dir=data_dir, **{**TEST_SETTINGS, **settings}))


class App:
    """The app in this process, with the settings and the ``client()`` of
    :class:`Server`; its worker pools are processes all the same."""

    def __init__(self, data_dir: Path, **settings):
        self.data_dir = data_dir
        self.app = make_app(data_dir, **settings)
        self._lifespan = TestClient(self.app)

    def start(self) -> App:
        self._lifespan.__enter__()  # opens the store, starts the pools
        # Ready once every worker is: tests read an "ok" /healthz.
        deadline = time.monotonic() + STARTUP_SECONDS
        while self._lifespan.get("/healthz").json()["status"] != "ok":
            assert time.monotonic() < deadline, "the app's workers did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._lifespan.__exit__(None, None, None)

    def client(self, key: str | None = KEY_A) -> TestClient:
        headers = {"X-API-Key": key} if key else {}
        return _Client(self.app, headers=headers)


#: Skipped without a server, except where FEATIMP_REQUIRE_POSTGRES=1 (CI).
NO_POSTGRES = (
    "FEATIMP_TEST_DATABASE_URL is unset: no PostgreSQL server to test against "
    '(eval "$(bash .ci/postgres.sh start)" starts one)'
)


def postgres_server_url() -> str:
    url = os.environ.get("FEATIMP_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("FEATIMP_REQUIRE_POSTGRES") == "1":
            pytest.fail(NO_POSTGRES)
        pytest.skip(NO_POSTGRES)
    return url


@contextmanager
def postgres_schema():
    """A database URL whose tables live in a fresh schema, dropped after."""
    url = postgres_server_url()
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """None (SQLite in the data directory), then a PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_url():
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    """The service in this process, for every test that needs no process of
    its own."""
    app = App(tmp_path_factory.mktemp("service") / "data").start()
    yield app
    app.stop()


@pytest.fixture
def client(service):
    with service.client() as c:
        yield c


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The service in a uvicorn process, for tests of what only a separate
    process shows."""
    srv = Server(tmp_path_factory.mktemp("server") / "data").start()
    yield srv
    srv.stop()


def wait_for_job(
    client,
    job_id: str,
    *,
    until=("succeeded", "failed", "canceled"),
    timeout: float = JOB_SECONDS,
) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").raise_for_status().json()
        if job["status"] in until:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")


#: MI by KSG with 200 bootstrap refits: seconds on wine, minutes on Taiwan
#: credit, in little memory (tests that use it stop it or wait on it).
SLOW_JOB_PARAMS = {
    "estimator": "knn",
    "discrete_features": False,
    "stability": 200,
    "random_state": 0,
}


def wait_in_store(store, job_id: str, until=None, timeout: float = 60) -> object:
    """Poll the store (no server) until the job reaches one of ``until``."""
    from service.store import jobs as job_store

    until = until or job_store.FINISHED
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_store.get_job(store=store, job_id=job_id)
        if job.status in until:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} is still {job.status}")


def run_job(client, body: dict) -> dict:
    """Submit a job, wait for it and return it; it must succeed."""
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert job["status"] == "succeeded", job
    return job


def upload_frame(client, frame, *, name="data.csv") -> dict:
    body = frame.to_csv(index=False).encode()
    response = client.post("/v1/datasets", files={"file": (name, body, "text/csv")})
    assert response.status_code == 201, response.text
    return response.json()


def assert_problem(
    response, status: int, *, field: str | None = None, contains: str | None = None
) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body.get("errors") or []], body
    if contains is not None:
        assert contains in body["detail"], body
    return body


#: Fast configurations of the methods the mixed-data tests run.
FAST_PARAMS = {
    name: fast_params(name) for name in ("mi", "ecfs", "lasso", "gain", "kan")
}
