"""State survives ``kill -9``: running jobs fail with a reason, queued ones rerun."""

import io

import pandas as pd
import pytest

from featimp.datasets import load_dataset
from tests.service.conftest import Server, upload_frame, wait_for_job

SLOW = {"estimator": "knn", "discrete_features": False, "random_state": 0}


@pytest.fixture
def one_worker_server(tmp_path):
    srv = Server(tmp_path / "data", workers=1).start()
    yield srv
    srv.stop()


def test_kill_during_a_running_job_then_restart(one_worker_server):
    srv = one_worker_server
    X, y = load_dataset("taiwan_credit")
    wine_X, wine_y = load_dataset("wine")
    with srv.client() as c:
        taiwan = upload_frame(c, X.assign(target=y))["id"]
        wine = upload_frame(c, wine_X.assign(target=wine_y))["id"]
        done = c.post(
            "/v1/jobs", json={"dataset_id": wine, "target": "target", "method": "mi"}
        ).json()
        done = wait_for_job(c, done["id"])
        before = c.get(f"/v1/jobs/{done['id']}/result", params={"format": "csv"}).text
        slow = c.post(
            "/v1/jobs",
            json={
                "dataset_id": taiwan,
                "target": "target",
                "method": "mi",
                "params": SLOW,
            },
        ).json()
        queued = c.post(
            "/v1/jobs", json={"dataset_id": taiwan, "target": "target", "method": "mi"}
        ).json()
        wait_for_job(c, slow["id"], until=("running",))

    srv.kill()
    srv.start()

    with srv.client() as c:
        slow = c.get(f"/v1/jobs/{slow['id']}").json()
        assert slow["status"] == "failed"
        assert "stopped while this job was running" in slow["error"]["detail"]
        # The job queued behind it reruns, on the dataset uploaded before the kill.
        assert wait_for_job(c, queued["id"])["status"] == "succeeded"
        after = c.get(f"/v1/jobs/{done['id']}/result", params={"format": "csv"}).text
        assert after == before
        datasets = {d["id"]: d for d in c.get("/v1/datasets").json()["data"]}
        assert datasets[taiwan]["n_rows"] == 30000 and wine in datasets
        table = pd.read_csv(io.StringIO(after))
        assert len(table) == wine_X.shape[1]
