"""Logs are JSON lines with the ids of the request or message, and carry no personal data."""

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import structlog

from jinlin.logging import REDACTED, configure_logging, get_logger, log_context

CANARY = "Canary Wang 王金灿"


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Configure JSON logging into a buffer; call the result for the lines written so far."""
    buffer = io.StringIO()
    configure_logging("json", "debug", stream=buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__name__ == "_JinlinHandler":
            root.removeHandler(handler)


def test_lines_are_json_with_bound_ids_and_a_utc_timestamp(log_lines: Callable[[], list[dict[str, Any]]]) -> None:
    log = get_logger("jinlin.test")
    with log_context(caseid="case-7", causationid="cmd-9"):
        log.info("thing happened", thing="t1")
    log.info("after the request")

    inside, after = log_lines()
    assert inside["event"] == "thing happened"
    assert (inside["caseid"], inside["causationid"], inside["thing"]) == ("case-7", "cmd-9", "t1")
    assert inside["level"] == "info"
    assert inside["logger"] == "jinlin.test"
    assert datetime.fromisoformat(inside["timestamp"]).utcoffset() == UTC.utcoffset(None)
    assert "caseid" not in after, "ids are unbound when the request ends"


def test_nested_contexts_restore_the_outer_ids(log_lines: Callable[[], list[dict[str, Any]]]) -> None:
    log = get_logger("jinlin.test")
    with log_context(caseid="outer"):
        with log_context(caseid="inner", causationid="msg-1"):
            log.info("inner")
        log.info("outer again")
    inner, outer = log_lines()
    assert (inner["caseid"], inner["causationid"]) == ("inner", "msg-1")
    assert outer["caseid"] == "outer"
    assert "causationid" not in outer


def test_stdlib_loggers_such_as_uvicorn_go_through_the_same_handler() -> None:
    uvicorn_own = io.StringIO()
    logging.getLogger("uvicorn.error").addHandler(logging.StreamHandler(uvicorn_own))  # as uvicorn's config does
    buffer = io.StringIO()
    configure_logging("json", "info", stream=buffer)
    try:
        with log_context(causationid="cmd-1"):
            logging.getLogger("uvicorn.error").warning("port %s is taken", 8081)
        (line,) = [json.loads(text) for text in buffer.getvalue().splitlines()]
        assert line["event"] == "port 8081 is taken"
        assert (line["level"], line["logger"], line["causationid"]) == ("warning", "uvicorn.error", "cmd-1")
        assert uvicorn_own.getvalue() == ""
    finally:
        structlog.reset_defaults()


def test_keys_that_look_personal_are_masked_at_any_depth(log_lines: Callable[[], list[dict[str, Any]]]) -> None:
    get_logger("jinlin.test").info(
        "complaint filed",
        reporter_name=CANARY,
        name=CANARY,
        payload={"phoneNumber": "13800138000", "people": [{"id_number": "110101199003077777", "role": "buyer"}]},
        label="kept",
    )
    (line,) = log_lines()
    text = json.dumps(line, ensure_ascii=False)
    for personal in ("Canary", "王金灿", "13800138000", "110101199003077777"):
        assert personal not in text
    assert line["reporter_name"] == line["name"] == REDACTED
    assert line["payload"]["phoneNumber"] == REDACTED
    assert line["payload"]["people"][0] == {"id_number": REDACTED, "role": "buyer"}
    assert line["label"] == "kept"


async def test_a_command_logs_its_ids_and_not_the_personal_data_it_carries(
    log_lines: Callable[[], list[dict[str, Any]]], client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    response = await client.post(
        "/things", json={"id": "t1", "label": CANARY}, headers={**auth["intake"], "X-Request-Id": "req-7"}
    )
    assert response.status_code == 201
    lines = log_lines()
    committed = next(line for line in lines if line["event"] == "command committed")
    assert (committed["caseid"], committed["causationid"], committed["request_id"]) == ("case-t1", "req-7", "req-7")
    answered = next(line for line in lines if line["event"] == "request answered")
    assert (answered["request_id"], answered["route"], answered["status"]) == ("req-7", "/things", 201)
    everything = json.dumps(lines, ensure_ascii=False)
    assert "Canary" not in everything
    assert "王金灿" not in everything


async def test_an_unhandled_error_is_logged_with_its_traceback_and_request_id(
    log_lines: Callable[[], list[dict[str, Any]]], client: httpx.AsyncClient
) -> None:
    response = await client.get("/boom")
    (error,) = [line for line in log_lines() if line["event"] == "unhandled error"]
    assert error["level"] == "error"
    assert error["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError: internal secret" in error["exception"]


def test_console_format_is_readable_text_and_auto_picks_json_off_a_terminal() -> None:
    console = io.StringIO()
    configure_logging("console", stream=console)
    try:
        get_logger("jinlin.test").info("hello there", thing="t1")
        assert "hello there" in console.getvalue()
        assert "thing=t1" in console.getvalue()
        with pytest.raises(json.JSONDecodeError):
            json.loads(console.getvalue())

        piped = io.StringIO()
        configure_logging("auto", stream=piped)
        get_logger("jinlin.test").info("hello again")
        assert json.loads(piped.getvalue())["event"] == "hello again"
    finally:
        structlog.reset_defaults()


def test_unknown_format_or_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml")
    with pytest.raises(ValueError, match="log level"):
        configure_logging("json", "chatty")
