"""Schemathesis over every registered service's OpenAPI document, once, against the live stack over HTTP.

The services fuzz their own apps in-process; this runs the same checks against the real processes, as a client
meets them (uvicorn, the real NATS, the real files, every service at once), with a few examples per operation,
valid and invalid, by a staff member holding every role, after some real traffic so that generated calls meet real
state. What it proves: no answer is a ``5xx`` (``/readyz``'s documented ``503`` aside, which a ready stack does not
give), and every answer's status, content type, headers and body are the ones the document promises.
"""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from tests.faults.harness import EVERYTHING_TOKEN, scaled

EXAMPLES = int(scaled(2, 25))
BUDGET = scaled(90.0, 900.0)
"""Seconds for the whole run; the run fails if the budget did not cover every operation."""

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


async def test_every_service_answers_its_document_and_no_5xx_over_http(stacks, workload_on, figures) -> None:
    stack = stacks()
    workload = await workload_on(stack)
    await workload.run_count(5, clients=2)

    failures: dict[str, str] = {}
    exercised: dict[str, int] = {}
    began = time.monotonic()
    for name in stack.names():
        schema = schemathesis.openapi.from_url(f"{stack.url(name)}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        exercised[name] = 0
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if time.monotonic() - began > BUDGET:
                    pytest.fail(f"the budget of {BUDGET:g} s ran out after {exercised}: lower EXAMPLES")

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.generate],
                )
                def call(case: schemathesis.Case) -> None:
                    # A connection per call: a kept-alive one may be closed by the server (uvicorn's 5 s keep-alive)
                    # while hypothesis thinks up the next case, and a client racing that close sees a reset.
                    headers = {"Authorization": f"Bearer {EVERYTHING_TOKEN}", "Connection": "close"}
                    case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

                try:
                    call()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE  # nothing to get wrong in a call without inputs
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as failure:  # schemathesis' FailureGroup is a BaseExceptionGroup
                    failures[f"{name} {operation.label} ({mode})"] = str(failure)[:3000]
            exercised[name] += 1
    figures("schemathesis over HTTP, operations per service", exercised)
    figures("schemathesis over HTTP, seconds", round(time.monotonic() - began, 1))
    assert all(exercised.values()), f"a service documents no operation: {exercised}"
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
