"""The OpenAPI document is the contract: schemathesis, with every check it
has, finds nothing the service does that the document does not say.

Every operation gets a bounded number of generated requests (its examples,
the coverage phase's edge cases and fuzzing), and a short stateful run
chains them (upload, start a job, read, delete). The service is an app of
its own, in this process, so what the runs create and delete touches no
other test.
"""

from __future__ import annotations

import re

import pytest

from tests.service.conftest import KEY_A, make_app

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.engine import events  # noqa: E402

MAX_EXAMPLES = 10
#: Requests the schema calls valid that the service still refuses, rightly:
#: what they lack is nothing a schema can say. An upload must parse as a
#: table or a model (422; 415 for bytes that are neither), and a job or a
#: transform must name a dataset this key has (422).
_REFUSED_BY_CONTENT = {
    ("POST", "/v1/datasets"): ["415", "422"],
    ("POST", "/v1/models"): ["415", "422"],
    ("POST", "/v1/jobs"): ["422"],
    ("POST", "/v1/selectors/{selector_id}/transform"): ["422"],
}
_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def _config(seed: int):
    config = schemathesis.Config.from_dict(
        {
            "seed": seed,
            "headers": {"X-API-Key": KEY_A},
            # The same requests every run, and no example database to keep.
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": _ACCEPTED + statuses
                        }
                    },
                }
                for (method, path), statuses in _REFUSED_BY_CONTENT.items()
            ],
        }
    )
    config.projects.override.checks.update(included_check_names=["all"])
    return config


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    # Schemathesis runs the app's lifespan, and ends it after each test.
    app = make_app(tmp_path_factory.mktemp("openapi") / "data", workers=1)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(seed=0))


def _findings(schema) -> tuple[list[str], set[str]]:
    """Every failed check and error of one run, and the operations tested."""
    found, tested = [], set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.FatalError):
            raise event.exception
        if isinstance(event, events.NonFatalError):
            found.append(f"{event.label}: error {event.value!r}")
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            tested.add(event.recorder.label)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    found.append(
                        f"{failure.code} {failure.title} ({check.name}) on "
                        f"{event.recorder.label}: {failure.message}\n"
                        f"{check.failure_info.code_sample}"
                    )
    return list(dict.fromkeys(found)), tested


def test_schemathesis_with_every_check_finds_nothing(api_schema):
    found, tested = _findings(api_schema)
    operations = {
        f"{method.upper()} {path}"
        for path, items in api_schema.raw_schema["paths"].items()
        for method in items
    }
    assert operations <= tested, operations - tested
    assert not found, "\n\n".join(found)


def test_every_problem_status_is_declared_as_problem_json(api_schema):
    document = api_schema.raw_schema
    assert "ProblemDetails" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                content = response.get("content", {})
                assert list(content) == ["application/problem+json"], (
                    method,
                    path,
                    status,
                )
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/ProblemDetails"
                }
            if path.startswith("/v1/"):
                assert {"401", "422", "429"} <= set(operation["responses"]), path


def test_problem_details_schema_matches_a_real_problem(service):
    with service.client() as c:
        body = c.get("/v1/jobs/" + "0" * 32).json()
        listing = c.get("/v1/datasets", params={"limit": 0}).json()
    assert set(body) <= {"type", "title", "status", "detail", "instance", "errors"}
    assert listing["errors"][0]["field"] == "limit"
    assert re.fullmatch(r"no job with id '0+'", body["detail"])


def test_405_names_every_method_of_the_path(service):
    with service.client() as c:
        response = c.request("PATCH", "/v1/datasets")
        one = c.request("PATCH", "/v1/datasets/" + "0" * 32)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}
    assert set(one.headers["allow"].split(", ")) >= {"GET", "DELETE"}


# -- /docs and /redoc, offline ------------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(service, page):
    with service.client(key=None) as c:
        html = c.get(page)
        assert html.status_code == 200
        assert "text/html" in html.headers["content-type"]
        assert "http://" not in html.text and "https://" not in html.text
        urls = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html.text)
        urls += re.findall(r"url: '([^']+)'", html.text)
        assert "/openapi.json" in urls and len(urls) >= 3, urls
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), url
            assert c.get(url).status_code == 200, url
    assets = [u for u in urls if u.endswith((".js", ".css"))]
    assert assets and all(u.startswith("/docs/assets/") for u in assets), assets
