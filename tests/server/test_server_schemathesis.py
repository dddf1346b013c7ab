"""The OpenAPI document is valid, and schemathesis finds no 5xx and nothing off-spec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import schemathesis
from hubkit import assert_envelope, create_event, issue

# use_after_free: DELETE /v1/events/{id} cancels (the seed's contract); the event stays.
# positive_data_acceptance: schema-valid bodies may still break business rules (an unknown
# tier name, two tiers with one name) and get a documented 400.
EXCLUDED_CHECKS = "use_after_free,positive_data_acceptance"


def test_openapi_document_is_valid(api):
    spec = api.get("/v1/openapi.json").json()
    schemathesis.openapi.from_dict(spec).validate()  # against the OpenAPI 3.1 meta-schema
    broken = {**spec, "paths": {"/x": {"get": {"responses": 5}}}}
    try:
        schemathesis.openapi.from_dict(broken).validate()
    except Exception:  # noqa: BLE001 - any validation error will do
        pass
    else:
        raise AssertionError("the validator accepted a broken document")


def test_405_lists_every_method_of_the_path(api):
    response = api.put("/v1/events")
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    assert api.patch("/v1/events/evt_1").headers["allow"] == "DELETE, GET"


def test_schemathesis_finds_nothing(hub, api, tmp_path):
    event = create_event(api)  # data for the operations that need an existing event
    issue(api, event["id"], quantity=2)
    key = api.headers["authorization"]
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{hub.url}/v1/openapi.json",
        "--header",
        f"Authorization: {key}",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--max-examples",
        "12",
        "--seed",
        "20260715",
        # One worker: with two threads Hypothesis' lambda-source cache races under Python 3.11
        # (KeyError / "AST constructor recursion depth mismatch"), about 1 run in 10 here.
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--report-dir",
        str(tmp_path),
        "--no-shrink",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]
    assert "27/27" in result.stdout  # every operation was tested
