"""Running a command behind a ``POST``: idempotency keys, ``If-Match`` and one store transaction.

An endpoint validates its input (FastAPI), authorises the caller (:func:`jinlin.web.staff.require_roles`) and
hands the work to :func:`run_command`::

    @router.post("/complaints/{complaint_id}/closures", status_code=200, response_model=ComplaintView,
                 **command_docs(require_if_match=True))
    async def close(complaint_id: ComplaintId, body: CloseComplaint, request: Request,
                    staff: Annotated[Staff, Depends(require_roles("handler"))]) -> Response:
        stream = Stream("complaint", complaint_id)

        async def handle(tx: Transaction) -> CommandResult:
            complaint = Complaint.load(await tx.read_stream(stream))
            await tx.append(stream, complaint.version, complaint.close(body.reason))
            return CommandResult(ComplaintView.of(complaint))

        return await run_command(request, store, handle, actor=staff, scope="complaints.close",
                                 stream=stream, require_if_match=True, status_code=200)

What :func:`run_command` guarantees:

- **Idempotency-Key** (optional unless ``require_idempotency_key``; missing then → ``400``, per the IETF
  httpapi idempotency-key draft). The request's fingerprint is the SHA-256 of method, path, query and
  canonical JSON body (RFC 8785, so key order and spacing do not matter). A key already answered replays the
  first answer byte for byte (status, body, ``ETag``, ``Location``...) plus ``Idempotent-Replayed: true``, and
  appends nothing; the same key with another fingerprint is a ``422``; a key whose first request is still
  running in this process is a ``409``. Keys are scoped by ``scope`` and by the caller, so two staff members
  never see each other's answers. The record is written in the command's own transaction: a command that
  fails leaves no record and may be retried with the same key. When two processes race with one key, the
  store's write lock makes the second see the first's record; were that lock ever absent, the loser's
  unique-key violation is still turned into a replay of the winner's answer.
- **If-Match** with the stream's ETag (``"3"``), checked inside the transaction, so nothing can change the
  stream between the check and the append: stale → ``412`` with ``current_version``; missing where
  ``require_if_match`` → ``428``.
- **ETag** of the answer: the stream's version after the command.
- The events record ``actor`` (``staff:<id>``) and ``causationid`` (the request id); both are bound to the log
  lines of the command, as is ``caseid`` when given (by the endpoint, or by the caller's ``Jinlin-Case-Id``
  header; an aggregate that knows its case, like a complaint, still records its own).
"""

import hashlib
import json
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.exc import IntegrityError

from jinlin.events.canonical import canonical_json
from jinlin.logging import get_logger, log_context
from jinlin.store.errors import ConcurrencyError
from jinlin.store.records import CommandContext, StoredResponse, Stream
from jinlin.store.store import EventStore, Transaction
from jinlin.web.conditional import etag_of, if_match_holds
from jinlin.web.middleware import request_id_of
from jinlin.web.problems import Problem, problem_responses
from jinlin.web.staff import Staff

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
CASE_HEADER = "Jinlin-Case-Id"
_CASE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
# Visible ASCII only, and short: the key is stored beside the caller's id in a 200-character column.
_SANE_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")

_log = get_logger(__name__)


@dataclass(frozen=True)
class CommandResult:
    """What a command handler answers.

    ``version`` is the ETag; when ``None`` it is the version of ``stream`` (given to :func:`run_command`) after
    the command, or else of the one stream the command appended to. ``headers`` adds e.g. ``Location``;
    ``status_code`` overrides the endpoint's default.
    """

    body: BaseModel | Mapping[str, Any] | None = None
    version: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    status_code: int | None = None


CommandHandler = Callable[[Transaction], Awaitable[CommandResult]]


class _KeyTakenMeanwhile(Exception):
    """Another process saved an answer under the same key while this command ran."""


# Keys whose first request is still running, per store (a store is one service's database).
_in_flight: "weakref.WeakKeyDictionary[EventStore, set[tuple[str, str]]]" = weakref.WeakKeyDictionary()


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    try:
        canonical_body = canonical_json(json.loads(body)) if body else b""
    except ValueError:
        # Not JSON (or not canonicalisable): the bytes themselves are the body's identity.
        canonical_body = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), canonical_body):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed, so parts cannot run into each other
        digest.update(part)
    return digest.hexdigest()


def _case_header(request: Request) -> str | None:
    """The case a command belongs to, when the caller names it (``Jinlin-Case-Id``): the events it records carry it
    as their ``caseid``, so that a case's trail crosses services (an escrow payment made for a mediation case)."""
    value = request.headers.get(CASE_HEADER)
    if value is None:
        return None
    if not _CASE_ID.match(value):
        raise Problem(
            400,
            "Invalid case id",
            f"{CASE_HEADER} must be a case id: lower-case letters, digits, '_' and '-', at most 100.",
            slug="invalid-case-id",
        )
    return value


def _idempotency_key(request: Request, required: bool) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        if required:
            raise Problem(
                400,
                "Idempotency-Key required",
                "Send an Idempotency-Key header (a fresh UUID per command) so that a retry cannot act twice.",
                slug="idempotency-key-missing",
            )
        return None
    if not _SANE_KEY.match(key):
        raise Problem(
            400,
            "Malformed Idempotency-Key",
            "An Idempotency-Key is 1 to 128 visible ASCII characters; a UUID is a good choice.",
            slug="idempotency-key-malformed",
        )
    return key


def _replay(stored: StoredResponse, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise Problem(
            422,
            "Idempotency-Key reused",
            "This Idempotency-Key was already used for a different request; use a new key for a new command.",
            slug="idempotency-key-reused",
        )
    return Response(stored.body, status_code=stored.status_code, headers={**stored.headers, REPLAYED_HEADER: "true"})


async def _check_if_match(request: Request, tx: Transaction, stream: Stream, required: bool) -> None:
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise Problem(
                428,
                "If-Match required",
                "Send If-Match with the ETag you last read (GET the resource first), so that you do not "
                "overwrite a change you have not seen.",
                slug="if-match-required",
            )
        return
    current = await tx.stream_version(stream)
    if not if_match_holds(header, current):
        raise Problem(
            412,
            "Changed since you read it",
            f"If-Match was {header} but the resource is now at version {current}; read it again.",
            slug="stale-if-match",
            headers={"ETag": etag_of(current)},
            current_version=current,
        )


def _encode(body: BaseModel | Mapping[str, Any] | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, BaseModel):
        return body.model_dump_json(by_alias=True).encode()
    return to_json(body)


async def _answer_version(tx: Transaction, result: CommandResult, stream: Stream | None) -> int | None:
    if result.version is not None:
        return result.version
    if stream is not None:
        return await tx.stream_version(stream)
    streams = {event.stream for event in tx.appended}
    return tx.appended[-1].envelope.streamversion if len(streams) == 1 else None


@dataclass(frozen=True)
class _Command:
    """One command request, as :func:`_execute` needs it."""

    request: Request
    store: EventStore
    handler: CommandHandler
    context: CommandContext
    scope: str
    fingerprint: str
    record_key: str | None
    stream: Stream | None
    require_if_match: bool
    status_code: int


async def _execute(command: _Command) -> Response:
    async with command.store.transaction(command.context) as tx:
        if command.record_key is not None:
            # Under the store's write lock, so a record committed by another process is seen: then replay it.
            stored = await tx.find_response(command.scope, command.record_key)
            if stored is not None:
                return _replay(stored, command.fingerprint)
        if command.stream is not None:
            await _check_if_match(command.request, tx, command.stream, command.require_if_match)
        result = await command.handler(tx)
        headers = {"content-type": "application/json"} if result.body is not None else {}
        # Lower-case names, so that a handler's own "ETag" or "Content-Type" replaces ours instead of doubling it.
        headers.update({name.lower(): value for name, value in result.headers.items()})
        version = await _answer_version(tx, result, command.stream)
        if version is not None:
            headers["etag"] = etag_of(version)
        status_code = result.status_code or command.status_code
        answer = StoredResponse(status_code, _encode(result.body), headers, command.fingerprint)
        if command.record_key is not None:
            try:
                await tx.save_response(command.scope, command.record_key, answer)
            except IntegrityError as exc:
                raise _KeyTakenMeanwhile from exc
    _log.info("command committed", scope=command.scope, events=len(tx.appended), version=version)
    return Response(answer.body, status_code=answer.status_code, headers=answer.headers)


async def run_command(
    request: Request,
    store: EventStore,
    handler: CommandHandler,
    *,
    actor: Staff,
    scope: str,
    stream: Stream | None = None,
    caseid: str | None = None,
    require_if_match: bool = False,
    require_idempotency_key: bool = False,
    status_code: int = 201,
) -> Response:
    """Run ``handler`` in one store transaction with the guarantees of this module; return the HTTP answer.

    ``scope`` names the command (``complaints.file``) for idempotency records; ``stream`` is the aggregate whose
    version ``If-Match`` and the ``ETag`` refer to. ``handler`` may raise :class:`Problem` (a domain rule says
    no): the transaction rolls back and nothing, not even the idempotency record, is written.
    """
    if require_if_match and stream is None:
        raise ValueError("require_if_match needs the stream whose version If-Match names")
    key = _idempotency_key(request, require_idempotency_key)
    caseid = caseid or _case_header(request)
    command_id = request_id_of(request)
    body = await request.body()
    command = _Command(
        request=request,
        store=store,
        handler=handler,
        context=CommandContext(actor=actor.actor, causationid=command_id, caseid=caseid),
        scope=scope,
        fingerprint=request_fingerprint(request.method, request.url.path, request.url.query, body),
        record_key=None if key is None else f"{actor.id}|{key}",
        stream=stream,
        require_if_match=require_if_match,
        status_code=status_code,
    )
    with log_context(caseid=caseid, causationid=command_id):
        if command.record_key is None:
            return await _execute(command)
        return await _execute_once(command, command.record_key)


async def _execute_once(command: _Command, record_key: str) -> Response:
    # A key already answered is looked up inside the command's own transaction (see _execute), where a record
    # committed by another process is seen too: one look instead of a second one on a reader beforehand.
    in_flight_key = (command.scope, record_key)
    running = _in_flight.setdefault(command.store, set())
    if in_flight_key in running:
        raise Problem(
            409,
            "Request still in progress",
            "The first request with this Idempotency-Key has not finished; retry shortly to get its answer.",
            slug="idempotency-key-in-flight",
            headers={"Retry-After": "1"},
        )
    running.add(in_flight_key)
    try:
        return await _execute(command)
    except (_KeyTakenMeanwhile, ConcurrencyError):
        # Either way another request may have run this very command first (another process, which our
        # lookups missed): then its answer is ours. Otherwise the conflict stands.
        winner = await command.store.find_response(command.scope, record_key)
        if winner is None:
            raise
        return _replay(winner, command.fingerprint)
    finally:
        running.discard(in_flight_key)


def command_docs(*, require_if_match: bool = False, require_idempotency_key: bool = False) -> dict[str, Any]:
    """Keyword arguments for a command route's decorator documenting its headers and problem answers.

    They only document (OpenAPI); :func:`run_command` enforces. Pass the same ``require_*`` flags to both.
    """
    parameters = [
        {
            "name": IDEMPOTENCY_KEY_HEADER,
            "in": "header",
            "required": False,
            "description": "A fresh UUID per command; a retry with the same key returns the first answer."
            + (" Required: a missing key is a 400 problem." if require_idempotency_key else ""),
            "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[\x21-\x7e]+$"},
        },
        {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": 'The ETag last read, e.g. "3"; a stale one is a 412 problem.'
            + (" Required: a missing one is a 428 problem." if require_if_match else ""),
            "schema": {"type": "string"},
        },
    ]
    statuses = [400, 409, 422] + ([412, 428] if require_if_match else [412])
    return {"openapi_extra": {"parameters": parameters}, "responses": problem_responses(*statuses)}
