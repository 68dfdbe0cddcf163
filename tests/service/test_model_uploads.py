"""Crafted model uploads: a 422 that says what is wrong, and the service unharmed.

Each crafted file starts from a small real model and changes one thing
XGBoost or LightGBM trusts. The comment by each case says what the file does
to a process that loads it and predicts with it, as seen with xgboost 3.2
and lightgbm 4.7 on Linux x86-64: such uploads used to kill the web process.
"""

import copy
import dataclasses
import json
import re

import numpy as np
import pytest

from featimp.datasets._recourse import load_german_recourse
from featimp.recourse import german_action_set
from service.api.deps import owner_of
from service.config import Settings
from service.model_files import (
    LIGHTGBM_TEXT,
    XGBOOST_JSON,
    ModelDescription,
    ModelFileError,
    ModelLimits,
    _describe,
    _sandbox,
    describe_model,
)
from service.store import models as model_store
from service.store import open_store
from service.store.db import new_id
from tests.service.conftest import (
    KEY_A,
    assert_problem,
    run_job,
    upload_frame,
    wait_for_job,
)

xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")

#: XGBoost's "no node" marker; as a child index it points 40 GB past the tree.
FAR = 2**31 - 2


def _features(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int), rng.integers(0, 3, n)


@pytest.fixture(scope="module")
def xgb_docs():
    """Two-tree XGBoost models as JSON documents: binary and three classes."""
    X, y, y3 = _features()
    docs = []
    for labels in (y, y3):
        model = xgboost.XGBClassifier(n_estimators=2, max_depth=2, n_jobs=1)
        model.fit(X, labels)
        docs.append(json.loads(model.get_booster().save_raw("json")))
    return docs


@pytest.fixture(scope="module")
def lgb_text():
    X, y, _ = _features()
    model = lightgbm.LGBMClassifier(n_estimators=2, num_leaves=4, verbose=-1)
    return model.fit(X, y).booster_.model_to_string()


PARAM = ("learner", "learner_model_param")
MODEL = ("learner", "gradient_booster", "model")
TREE = (*MODEL, "trees", 0)

#: name: (where in a binary model's JSON, what goes there, words of the 422).
XGBOOST_CASES = {
    # +15 GB of memory, and still loading a minute later
    "num_class=1e9": ((*PARAM, "num_class"), "1000000000", "1000000000 classes"),
    # +19 GB of memory
    "num_target=1e9": ((*PARAM, "num_target"), "1000000000", "num_target"),
    # XGBoost refuses this one and the last two itself; the limits come first
    "num_feature=1e9": ((*PARAM, "num_feature"), "1000000000", "1000000000 features"),
    # SIGSEGV when predicting, each of the next five
    "child out of range": ((*TREE, "right_children", 0), FAR, "is not a node"),
    "negative child": ((*TREE, "left_children", 1), -7, "is not a node"),
    "child is the root": ((*TREE, "left_children", 1), 0, "is not a node"),
    "split out of range": ((*TREE, "split_indices", 0), 10**6, "feature 1000000"),
    "negative split": ((*TREE, "split_indices", 0), -3, "feature -3"),
    # SIGSEGV when loading, each of the next two
    "parent out of range": ((*TREE, "parents", 3), 10**5, "parent 100000"),
    "leaf vector of 1e9": (
        (*TREE, "tree_param", "size_leaf_vector"),
        "1000000000",
        "vector-leaf",
    ),
    # SIGABRT (heap corruption) once loaded, each of the next two
    "tree_info out of range": ((*MODEL, "tree_info"), [5, 7], "tree_info[0] is 5"),
    "negative tree_info": ((*MODEL, "tree_info"), [-1, 0], "tree_info[0] is -1"),
    "num_nodes=1e9": (
        (*TREE, "tree_param", "num_nodes"),
        "1000000000",
        "1000000000 nodes",
    ),
    "num_trees=1e9": (
        (*MODEL, "gbtree_model_param", "num_trees"),
        "1000000000",
        "1000000000 trees",
    ),
}


def _json(doc) -> bytes:
    return json.dumps(doc).encode()


def _put(doc, path, value) -> bytes:
    doc = copy.deepcopy(doc)
    where = doc
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = value
    return _json(doc)


def _tree(doc, i=0):
    for key in TREE[:-1]:
        doc = doc[key]
    return doc[i]


def _other_xgb_cases(docs) -> dict[str, tuple[bytes, str]]:
    """The crafted XGBoost files that take more than one value changed."""
    short, cycle, categories, multi = (copy.deepcopy(docs[i]) for i in (0, 0, 0, 1))
    _tree(short)["left_children"].pop()
    _tree(cycle)["left_children"][3] = _tree(cycle)["right_children"][3] = 1
    _tree(categories)["split_type"][0] = 1
    _tree(categories).update(
        categories=[1],
        categories_nodes=[0],
        categories_segments=[10**6],
        categories_sizes=[1000],
    )
    multi["learner"]["gradient_booster"]["model"]["tree_info"][-1] = 1000
    text = json.dumps(docs[0])
    twice = text.replace('"num_class": "0"', '"num_class": "0", "num_class": "9"')
    return {
        "arrays shorter than num_nodes": (_json(short), "6 entries for 7 nodes"),
        # SIGSEGV when predicting
        "cycle below the root": (_json(cycle), "child of more than one split"),
        # SIGSEGV when loading
        "category segment out of range": (_json(categories), "categorical"),
        "three classes, tree_info past them": (_json(multi), "tree_info[5] is 1000"),
        # RecursionError in Python, SIGSEGV (stack overflow) in XGBoost
        "100k nested lists": (
            b'{"learner": ' + b"[" * 100_000,
            "nested more than 32 levels",
        ),
        "50k nested objects": (
            b'{"learner": ' * 50_000 + b"1" + b"}" * 50_000,
            "nested more than 32 levels",
        ),
        "a key twice": (twice.encode(), "appears twice"),
        "cut short": (text[:1000].encode(), "not an XGBoost JSON model"),
    }


def _header(text: str, key: str, value: str) -> str:
    return re.sub(rf"(?m)^{key}=.*$", f"{key}={value}", text, count=1)


def _field(text: str, key: str, value: str) -> str:
    """``key=value`` in the first tree, with ``tree_sizes`` to match: LightGBM
    then takes the tree as it is."""
    head, sep, rest = text.partition("Tree=0\n")
    return _fix_sizes(head + sep + _header(rest, key, value))


def _fix_sizes(text: str) -> str:
    start, end = text.index("\nTree=") + 1, text.index("end of trees")
    blocks = re.split(r"(?m)(?=^Tree=)", text[start:end])
    return _header(text, "tree_sizes", " ".join(str(len(b)) for b in blocks if b))


#: name: (change to a binary model's text, key, value, words of the 422).
LIGHTGBM_CASES = {
    # SIGFPE (division by zero) when loading
    "num_tree_per_iteration=0": (
        _header,
        "num_tree_per_iteration",
        "0",
        "num_tree_per_iteration",
    ),
    # SIGSEGV when predicting, each of the next three
    "num_tree_per_iteration=1e9": (
        _header,
        "num_tree_per_iteration",
        "1000000000",
        "num_tree_per_iteration",
    ),
    "split_feature out of range": (
        _field,
        "split_feature",
        "100000 1 0",
        "feature 100000",
    ),
    "child out of range": (_field, "left_child", "100000 -1 -3", "neither a split"),
    # predicting never ends, each of the next two
    "child is the root": (_field, "left_child", "1 0 -3", "neither a split"),
    "split is its own child": (_field, "left_child", "0 -1 -3", "neither a split"),
    # SIGABRT when loading, each of the next six
    "num_leaves past the arrays": (_field, "num_leaves", "50", "4 entries, not 50"),
    "num_leaves short of them": (_field, "num_leaves", "2", "4 entries, not 2"),
    "threshold short": (_field, "threshold", "0.3", "threshold has 1 entries"),
    "num_cat without categories": (_field, "num_cat", "1", "cat_boundaries"),
    "shrinkage not a number": (_field, "shrinkage", "abc", "shrinkage"),
    "tree_sizes wrong": (_header, "tree_sizes", "10 10", "tree_sizes"),
    # SIGSEGV when loading
    "tree_sizes of 100 MB": (_header, "tree_sizes", "100000000 558", "tree_sizes"),
}


def _other_lgb_cases(text: str) -> dict[str, tuple[bytes, str]]:
    """The crafted LightGBM files that take more than one value changed."""
    huge = _header(
        _header(text, "num_class", "1000000000"), "num_tree_per_iteration", "1000000000"
    )
    categorical = _field(_field(text, "decision_type", "1 2 2"), "num_cat", "1")
    categorical = _field(categorical, "threshold", "5000 0.4 -0.6").replace(
        "is_linear=0", "cat_boundaries=0 1\ncat_threshold=1\nis_linear=0", 1
    )
    deep = "pandas_categorical:" + "[" * 100_000
    files = {
        # asks for 37 GB when predicting
        "num_class=1e9": (huge, "1000000000 classes"),
        # SIGSEGV when predicting
        "objective with another num_class": (
            _header(text, "objective", "multiclass num_class:1000000000"),
            "objective",
        ),
        # reads past its arrays when predicting: SIGSEGV, or a wrong prediction
        "category set out of range": (_fix_sizes(categorical), "category set 5000"),
        # SIGABRT when loading
        "cut short in a tree": (text[: text.index("Tree=1") + 60], "tree 1"),
        # RecursionError in LightGBM's Python package (it was a 500)
        "deep pandas_categorical": (
            text.replace("pandas_categorical:null", deep),
            "pandas_categorical",
        ),
    }
    return {k: (v.encode(), words) for k, (v, words) in files.items()}


@pytest.fixture(scope="module")
def crafted(xgb_docs, lgb_text):
    """name -> (file content, words of the detail) for every crafted file."""
    files = {
        f"xgboost: {name}": (_put(xgb_docs[0], path, value), words)
        for name, (path, value, words) in XGBOOST_CASES.items()
    }
    files |= {f"xgboost: {k}": v for k, v in _other_xgb_cases(xgb_docs).items()}
    for name, (change, key, value, words) in LIGHTGBM_CASES.items():
        files[f"lightgbm: {name}"] = (change(lgb_text, key, value).encode(), words)
    files |= {f"lightgbm: {k}": v for k, v in _other_lgb_cases(lgb_text).items()}
    return files


#: Every crafted file, by name (the ids of the parametrized tests).
CASES = [
    *(f"xgboost: {name}" for name in XGBOOST_CASES),
    *(
        f"xgboost: {name}"
        for name in (
            "arrays shorter than num_nodes",
            "cycle below the root",
            "category segment out of range",
            "three classes, tree_info past them",
            "100k nested lists",
            "50k nested objects",
            "a key twice",
            "cut short",
        )
    ),
    *(f"lightgbm: {name}" for name in LIGHTGBM_CASES),
    *(
        f"lightgbm: {name}"
        for name in (
            "num_class=1e9",
            "objective with another num_class",
            "category set out of range",
            "cut short in a tree",
            "deep pandas_categorical",
        )
    ),
]


def test_every_case_is_listed(crafted):
    assert sorted(crafted) == sorted(CASES)


@pytest.fixture
def limits():
    return ModelLimits.from_settings(Settings())


@pytest.mark.parametrize("name", CASES)
def test_crafted_files_are_refused_before_any_library_sees_them(
    crafted, name, tmp_path, monkeypatch, limits
):
    def sandbox(*args):
        raise AssertionError("the pre-check let the file through to the sandbox")

    monkeypatch.setattr(_describe, "probe_model", sandbox)
    content, words = crafted[name]
    path = tmp_path / "model"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=re.escape(words)) as info:
        describe_model(path, limits=limits)
    assert info.value.status == 422


@pytest.fixture
def healthy(service):
    yield
    with service.client() as c:
        assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize("name", CASES)
def test_crafted_uploads_get_a_422_and_the_service_lives_on(
    client, crafted, name, healthy
):
    content, words = crafted[name]
    response = client.post(
        "/v1/models", files={"file": ("model", content, "application/octet-stream")}
    )
    problem = assert_problem(response, 422, field="file", contains=words)
    assert problem["title"] == "Invalid model"


def test_a_model_file_over_the_size_limit_is_a_413(tmp_path, limits, xgb_docs):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(xgb_docs[0]))
    small = dataclasses.replace(limits, max_bytes=100)
    with pytest.raises(ModelFileError, match="this service's limit of 100") as info:
        describe_model(path, limits=small)
    assert info.value.status == 413


def _probe(tmp_path, content: bytes, fmt: str, **settings):
    """The sandbox alone, on a file the pre-check would refuse."""
    path = tmp_path / "model"
    path.write_bytes(content)
    limits = ModelLimits.from_settings(Settings(**settings))
    description = ModelDescription(fmt, "binary", 2, 4, None)
    with pytest.raises(ModelFileError) as info:
        _sandbox.probe_model(path, description, limits)
    return str(info.value)


def test_the_sandbox_turns_a_segfault_into_a_refusal(tmp_path, crafted):
    content, _ = crafted["xgboost: child out of range"]
    detail = _probe(tmp_path, content, XGBOOST_JSON)
    assert detail == "the model crashed XGBoost (SIGSEGV) while predicting"


def test_the_sandbox_turns_an_abort_into_a_refusal(tmp_path, crafted):
    content, _ = crafted["lightgbm: tree_sizes wrong"]
    detail = _probe(tmp_path, content, LIGHTGBM_TEXT)
    assert detail.startswith("the model crashed LightGBM's parser (SIGABRT)")


def test_the_sandbox_has_a_memory_limit(tmp_path, crafted):
    content, _ = crafted["xgboost: num_class=1e9"]
    detail = _probe(tmp_path, content, XGBOOST_JSON, model_sandbox_memory_mb=1024)
    assert detail.endswith("exceeded the memory limit of 1024 MB")


def test_the_sandbox_has_a_time_limit(tmp_path, crafted):
    content, _ = crafted["lightgbm: child is the root"]  # predicts forever
    detail = _probe(tmp_path, content, LIGHTGBM_TEXT, model_sandbox_seconds=3)
    assert detail.endswith("took more than 3 s, this service's limit")


@pytest.fixture(scope="module")
def german():
    X, y = load_german_recourse()
    return X, y, german_action_set(X)


def _job(rows, A, model_id) -> dict:
    return {
        "type": "responsiveness",
        "dataset_id": rows["id"],
        "action_set": A.to_dict(),
        "model": {"model_id": model_id},
        "rows": {"filter": "all"},
    }


def _crashing_model(X, y) -> dict:
    """An XGBoost model of ``X`` whose every root points far out of its tree."""
    model = xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1)
    doc = json.loads(model.fit(X, y).get_booster().save_raw("json"))
    for tree in doc["learner"]["gradient_booster"]["model"]["trees"]:
        tree["left_children"][0] = tree["right_children"][0] = FAR
    return doc


def test_a_model_that_crashes_its_worker_fails_that_job_alone(
    service, client, german, healthy
):
    # Stored behind the upload's back, as a model uploaded before the checks.
    X, y, A = german
    store = open_store(service.data_dir)
    model_id = new_id()
    store.path("models", model_id).write_text(json.dumps(_crashing_model(X, y)))
    model_store.create_model(
        store=store,
        model_id=model_id,
        owner=owner_of(KEY_A),
        name="crash.json",
        fmt=XGBOOST_JSON,
        size_bytes=1,
        objective="binary:logistic",
        n_classes=2,
        n_features=X.shape[1],
        feature_names=None,
    )
    rows = upload_frame(client, X.iloc[:5], name="five.csv")
    response = client.post("/v1/jobs", json=_job(rows, A, model_id))
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert job["status"] == "failed"
    assert job["error"]["detail"] == "the worker process was killed by SIGSEGV"
    assert client.delete(f"/v1/models/{model_id}").status_code == 204


def test_valid_lightgbm_model_works_after_the_crafted_ones(client, german, healthy):
    X, y, A = german
    model = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1)
    model.fit(X, y)
    upload = client.post(
        "/v1/models",
        files={"file": ("credit.txt", model.booster_.model_to_string(), "text/plain")},
    )
    assert upload.status_code == 201, upload.text
    uploaded = upload.json()
    assert (uploaded["format"], uploaded["n_features"]) == (LIGHTGBM_TEXT, 36)
    assert uploaded["feature_names"] == list(X.columns)
    batch = X.iloc[:12]
    rows = upload_frame(client, batch, name="applicants.csv")
    job = run_job(client, _job(rows, A, uploaded["id"]))
    page = client.get(f"/v1/jobs/{job['id']}/result", params={"limit": 100})
    predictions = [row["prediction"] for row in page.raise_for_status().json()["data"]]
    np.testing.assert_array_equal(predictions, model.predict(batch))
    assert client.delete(f"/v1/models/{uploaded['id']}").status_code == 204
