"""Fuzz the API from its own OpenAPI document: no input may get a 5xx.

Schemathesis generates requests for every operation (valid and invalid parameters,
multipart bodies of arbitrary bytes) and sends them to the running server; a bounded
number of examples per operation keeps it to seconds. The document is the app's own
(built without starting it), the same one the server publishes at /openapi.json.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.main import create_app

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

EXAMPLES = 40
"""Examples per operation."""

schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_gets_a_server_error(case, server):
    case.call_and_validate(
        base_url=server,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        timeout=60,
    )
