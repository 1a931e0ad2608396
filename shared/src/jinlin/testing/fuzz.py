"""Schemathesis over every operation of a service's OpenAPI document, as one test.

Schemathesis' own pytest parametrisation does not run on pytest 9, so each service's fuzz test calls
:func:`fuzz_every_operation` and asserts it found nothing. Valid and invalid inputs are both generated; a failure
is any undocumented answer, any answer that does not match its schema, or any check in ``checks`` (no 5xx...).
"""

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode


def fuzz_every_operation(
    schema: Any,
    *,
    headers: dict[str, str],
    checks: Sequence[Any],
    examples: int,
    prepare: Callable[[Any], None] = lambda _case: None,
) -> tuple[int, dict[str, str]]:
    """Fuzz each operation of ``schema``; return how many operations there were and the failures by operation."""
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
            def call(case: Any) -> None:
                prepare(case)
                case.call_and_validate(headers=headers, checks=list(checks))

            try:
                call()
            except Unsatisfiable:
                if mode is not GenerationMode.NEGATIVE:
                    raise
                # An operation without inputs has nothing to get wrong.
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as failure:  # schemathesis' FailureGroup is a BaseExceptionGroup
                failures[f"{operation.label} ({mode})"] = str(failure)[:3000]
    return len(operations), failures


def report(failures: dict[str, str]) -> str:
    return "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
