"""The Open311 GeoReport v2 façade, under ``/open311/v2/``: JSON only, one jurisdiction.

- ``GET services.json``, ``GET services/{service_code}.json``: the active categories and their questions (public).
- ``GET requests.json``, ``GET requests/{service_request_id}.json``: complaints as the public may see them.
- ``POST requests.json`` (form-encoded, per the spec): files a complaint through the web channel.

Decisions:

- **Compound**: ``address_id`` is the compound id. It is required to file: only it routes a complaint to a compound.
  The building and the unit are two attributes every service definition lists (``attribute[building]``,
  ``attribute[unit]``).
- **lat/long and address_string** are accepted (GeoReport lets clients locate by any of them) but the desk locates
  by compound: they are appended to the description so that nothing the resident said is lost.
- **Reporter**: ``first_name``/``last_name`` become the reporter's name (family name first, no space, when either is
  written in Chinese characters; else "first last"), ``phone`` the phone; both sealed like every reporter's.
  ``email``, ``device_id``, ``account_id`` and ``media_url`` are not kept (the desk calls residents back by phone);
  ``account_id`` is answered as ``null``.
- **Auth**: reading is public. Filing needs an API key: a staff member's token with a desk role (intake, handler or
  supervisor), as the ``api_key`` field or as ``Authorization: Bearer``. ``Idempotency-Key`` works as on every
  command.
- **Formats**: ``.json`` only; any other format (``.xml``) is a ``404`` saying so, in GeoReport's error shape.
- **Volume**: at most 1000 requests, newest first; without dates, the last 90 days; a range may span 90 days at most.
"""

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select

from complaints.adapters.http.dependencies import INTAKE_DESK, context_of
from complaints.adapters.http.open311_errors import JSON_UTF8, GeoReportError, GeoReportRoute, georeport_responses
from complaints.adapters.http.open311_schemas import (
    Open311Created,
    Open311Receipt,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
)
from complaints.adapters.http.open311_views import (
    BUILDING,
    UNIT,
    Language,
    definition_of,
    request_of,
    resident_notes,
    service_notice,
    service_of,
)
from complaints.adapters.http.schemas import Reporter
from complaints.application.intake import NewComplaint, file_new_complaint, new_complaint_id
from complaints.application.read_model import complaint_view, instant
from complaints.domain import Channel, Datatype, Priority, effective_rule
from complaints.domain.identifiers import is_identifier
from jinlin.store import Transaction
from jinlin.web import CommandResult, Staff, run_command

PREFIX: Final = "/open311/v2"
MAX_REQUESTS: Final = 1000
MAX_SPAN: Final = timedelta(days=90)
MAX_FORM_BYTES: Final = 64 * 1024
DESCRIPTION_MAX: Final = 4000
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
_ATTRIBUTE: Final = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_CJK: Final = re.compile(r"[\u3400-\u9fff]")

router = APIRouter(prefix=PREFIX, tags=["Open311 GeoReport v2"], route_class=GeoReportRoute)

Lang = Annotated[Language, Query(description="Language of names and descriptions: zh (default) or en.")]
Jurisdiction = Annotated[str | None, Query(max_length=200, description="Ignored: this endpoint serves one.")]


def _json(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code, media_type=JSON_UTF8)


# -- services ---------------------------------------------------------------------------------------------------------


@router.get("/services.json", response_model=list[Open311Service], responses=georeport_responses(400, 422))
async def services(request: Request, jurisdiction_id: Jurisdiction = None, lang: Lang = "zh") -> Response:
    """GET Service List: the categories a complaint can be filed in."""
    catalogue = context_of(request).catalogue
    return _json([service_of(category, lang).model_dump() for category in catalogue.active()])


@router.get(
    "/services/{service_code}.json",
    response_model=Open311ServiceDefinition,
    responses=georeport_responses(400, 404, 422),
)
async def service_definition(
    service_code: str, request: Request, jurisdiction_id: Jurisdiction = None, lang: Lang = "zh"
) -> Response:
    """GET Service Definition: a category's questions as attributes, then building and unit."""
    for category in context_of(request).catalogue.active():
        if category.code == service_code:
            return _json(definition_of(category, lang).model_dump())
    raise GeoReportError(404, f"service_code {service_code} was not found")


# -- reading requests -------------------------------------------------------------------------------------------------


def _w3(value: str | None, name: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise GeoReportError(400, f"{name} must be a W3C date and time, e.g. 2026-11-01T00:00:00+08:00") from None
    if parsed.tzinfo is None:
        raise GeoReportError(400, f"{name} needs a time zone (Z or an offset such as +08:00)")
    return parsed


def _listed(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _period(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        assert end is not None
        return end - MAX_SPAN, end
    if end is None:
        return start, start + MAX_SPAN
    if end < start:
        raise GeoReportError(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise GeoReportError(400, "start_date and end_date may not span more than 90 days")
    return start, end


@router.get("/requests.json", response_model=list[Open311Request], responses=georeport_responses(400, 404, 422))
async def requests(
    request: Request,
    service_request_id: Annotated[
        str | None, Query(max_length=20_000, description="Comma-separated; overrides every other filter.")
    ] = None,
    service_code: Annotated[str | None, Query(max_length=2000, description="Comma-separated")] = None,
    start_date: Annotated[
        str | None, Query(max_length=40, description="W3C datetime, e.g. 2026-11-01T00:00:00Z")
    ] = None,
    end_date: Annotated[str | None, Query(max_length=40, description="W3C datetime")] = None,
    status: Annotated[str | None, Query(max_length=20, description="open, closed, or both comma-separated")] = None,
    jurisdiction_id: Jurisdiction = None,
    lang: Lang = "zh",
) -> Response:
    """GET Service Requests: newest first, at most 1000, within 90 days (the last 90 when no dates are given)."""
    context = context_of(request)
    now = context.clock()
    view = complaint_view.c
    query = select(complaint_view).order_by(view.filed_at.desc(), view.complaint_id).limit(MAX_REQUESTS)
    ids = _listed(service_request_id)
    if ids:
        if len(ids) > MAX_REQUESTS:
            raise GeoReportError(400, f"at most {MAX_REQUESTS} service_request_id at once")
        query = query.where(view.complaint_id.in_([i for i in ids if is_identifier(i)]))
    else:
        codes = _listed(service_code)
        known = {category.code for category in context.catalogue.categories}
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise GeoReportError(404, [f"service_code {code} was not found" for code in unknown])
        if codes:
            query = query.where(view.category_code.in_(codes))
        statuses = _listed(status)
        if set(statuses) - {"open", "closed"}:
            raise GeoReportError(400, "status must be open, closed, or both comma-separated")
        if statuses:
            query = query.where(view.open311_status.in_(statuses))
        start, end = _period(_w3(start_date, "start_date"), _w3(end_date, "end_date"), now)
        query = query.where(view.filed_at >= instant(start), view.filed_at <= instant(end))
    async with context.store.engines.reader.connect() as conn:
        rows = [dict(row._mapping) for row in (await conn.execute(query)).all()]
        notes = await resident_notes(conn, [row["complaint_id"] for row in rows])
    catalogue = context.catalogue
    found = [request_of(row, catalogue, notes.get(row["complaint_id"], []), now, lang).model_dump() for row in rows]
    return _json(found)


@router.get(
    "/requests/{service_request_id}.json",
    response_model=list[Open311Request],
    responses=georeport_responses(400, 404, 422),
)
async def one_request(
    service_request_id: str, request: Request, jurisdiction_id: Jurisdiction = None, lang: Lang = "zh"
) -> Response:
    """GET Service Request: a list holding the one request."""
    context = context_of(request)
    now = context.clock()
    missing = GeoReportError(404, f"service_request_id {service_request_id} was not found")
    if not is_identifier(service_request_id):
        raise missing
    async with context.store.engines.reader.connect() as conn:
        row = (
            await conn.execute(select(complaint_view).where(complaint_view.c.complaint_id == service_request_id))
        ).first()
        if row is None:
            raise missing
        notes = await resident_notes(conn, [service_request_id])
    found = request_of(dict(row._mapping), context.catalogue, notes.get(service_request_id, []), now, lang)
    return _json([found.model_dump()])


# -- filing -----------------------------------------------------------------------------------------------------------

_FORM_FIELDS: Final = {
    "api_key": "A staff member's token with a desk role (or send it as Authorization: Bearer).",
    "jurisdiction_id": "Ignored: this endpoint serves one jurisdiction.",
    "service_code": "Required: from services.json.",
    "address_id": "Required here: the compound's id.",
    "lat": "WGS84 latitude (kept in the description).",
    "long": "WGS84 longitude (kept in the description).",
    "address_string": "Where, in words (kept in the description).",
    "description": "Required here: what is wrong (at most 4000 characters).",
    "first_name": "The reporter's given name (sealed).",
    "last_name": "The reporter's family name (sealed).",
    "phone": "The reporter's phone number (sealed).",
    "email": "Not kept.",
    "device_id": "Not kept.",
    "account_id": "Not kept.",
    "media_url": "Not kept.",
}
FORM_DOCS: Final = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_CONTENT_TYPE: {
                "schema": {
                    "type": "object",
                    "required": ["service_code"],
                    "properties": {
                        name: {"type": "string", "description": text} for name, text in _FORM_FIELDS.items()
                    },
                    "additionalProperties": {
                        "type": "string",
                        "description": "attribute[code]=value for the service's attributes "
                        "(attribute[code][]=value, repeated, for a multivaluelist).",
                    },
                }
            }
        },
    }
}


class _Form:
    """The posted fields: plain ones (each at most once) and the attributes."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.fields: dict[str, str] = {}
        self.attributes: dict[str, list[str]] = {}
        self.listed: set[str] = set()
        problems = []
        for key, value in pairs:
            match = _ATTRIBUTE.match(key)
            if match:
                code = match.group(1)
                self.attributes.setdefault(code, []).append(value)
                if match.group(2):
                    self.listed.add(code)
            elif key in self.fields:
                problems.append(f"{key}: given more than once")
            else:
                self.fields[key] = value
        if problems:
            raise GeoReportError(400, problems)

    def get(self, name: str) -> str | None:
        value = self.fields.get(name, "").strip()
        return value or None  # GeoReport: an empty optional argument is the same as a missing one


async def _read_form(request: Request) -> _Form:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise GeoReportError(400, f"send the request as {FORM_CONTENT_TYPE}, as GeoReport v2 specifies")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise GeoReportError(400, f"the request is larger than {MAX_FORM_BYTES // 1024} KiB")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        raise GeoReportError(400, "the form is not valid UTF-8 application/x-www-form-urlencoded data") from None
    return _Form(pairs)


def _staff(request: Request, form: _Form) -> Staff:
    token = form.get("api_key")
    authorization = request.headers.get("authorization", "")
    if token is None and authorization.lower().startswith("bearer "):
        token = authorization[len("bearer ") :].strip() or None
    if token is None:
        raise GeoReportError(403, "api_key is required to submit a request")
    directory = getattr(request.app.state, "staff_directory", None)
    staff: Staff | None = directory.identify(token) if directory is not None else None
    if staff is None:
        raise GeoReportError(403, "invalid api_key")
    if not staff.has_any(INTAKE_DESK):
        raise GeoReportError(
            403, "this api_key may not submit requests (it needs the intake, handler or supervisor role)"
        )
    return staff


def _reporter_name(first: str | None, last: str | None) -> str | None:
    if first and last:
        return f"{last}{first}" if _CJK.search(first + last) else f"{first} {last}"
    return first or last


def _location_line(form: _Form) -> str | None:
    lat, long, words = form.get("lat"), form.get("long"), form.get("address_string")
    if (lat is None) != (long is None):
        raise GeoReportError(400, "lat and long are sent together")
    parts = []
    if lat is not None and long is not None:
        try:
            latitude, longitude = float(lat), float(long)
        except ValueError:
            raise GeoReportError(400, "lat and long must be numbers") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise GeoReportError(400, "lat must be within ±90 and long within ±180")
        parts.append(f"{latitude:.6f},{longitude:.6f}")
    if words is not None:
        parts.append(words)
    return f"（位置 Location: {'; '.join(parts)}）" if parts else None


class _Filing:
    """The posted form checked and mapped onto the desk's filing command."""

    def __init__(self, request: Request, form: _Form) -> None:
        catalogue = context_of(request).catalogue
        problems: list[str] = []
        code = form.get("service_code")
        if code is None:
            raise GeoReportError(400, "service_code is required")
        if code not in {category.code for category in catalogue.active()}:
            raise GeoReportError(404, f"service_code {code} was not found")
        self.category = catalogue.for_filing(code)
        self.compound_id = form.get("address_id")
        if self.compound_id is None:
            problems.append("address_id is required: it is the compound's id (lat/long or address_string alone "
                            "cannot route a complaint to a compound)")  # fmt: skip
        description = form.get("description")
        location = _location_line(form)
        if description is None:
            problems.append("description is required")
        self.description = "\n".join(part for part in (description, location) if part)
        if len(self.description) > DESCRIPTION_MAX:
            problems.append(f"description (with the location) must be at most {DESCRIPTION_MAX} characters")
        datatypes = {question.code: question.datatype for question in self.category.questions}
        self.answers: dict[str, Any] = {}
        place: dict[str, str | None] = {BUILDING: None, UNIT: None}
        for attribute, values in form.attributes.items():
            if attribute in place:
                if len(values) > 1:
                    problems.append(f"attribute[{attribute}]: given more than once")
                place[attribute] = values[0].strip() or None
            elif datatypes.get(attribute) is Datatype.MULTIVALUELIST:
                self.answers[attribute] = [value for value in values if value.strip()]
            elif len(values) > 1 or attribute in form.listed:
                problems.append(f"attribute[{attribute}]: takes one value")
            else:
                self.answers[attribute] = values[0]
        self.building, self.unit = place[BUILDING], place[UNIT]
        try:
            self.reporter = Reporter(
                name=_reporter_name(form.get("first_name"), form.get("last_name")), phone=form.get("phone")
            )
        except ValidationError as error:
            for detail in error.errors(include_url=False, include_input=False, include_context=False):
                field = "phone" if detail["loc"][:1] == ("phone",) else "first_name/last_name"
                problems.append(f"{field}: {detail['msg']}")
            self.reporter = Reporter()
        if problems:
            raise GeoReportError(400, problems)


@router.post(
    "/requests.json",
    status_code=201,
    response_model=list[Open311Created],
    responses=georeport_responses(400, 403, 404, 409, 422),
    openapi_extra=FORM_DOCS,
)
async def submit(request: Request) -> Response:
    """POST Service Request: file a complaint through the web channel. Answers the new service_request_id."""
    form = await _read_form(request)
    staff = _staff(request, form)
    filing = _Filing(request, form)
    context = context_of(request)
    at = context.clock()
    complaint_id = new_complaint_id(at)
    assert filing.compound_id is not None

    async def handle(tx: Transaction) -> CommandResult:
        intake = NewComplaint(
            category_code=filing.category.code,
            description=filing.description,
            channel=Channel.WEB,
            compound_id=filing.compound_id or "",
            answers=filing.answers,
            building=filing.building,
            unit=filing.unit,
            reporter_name=filing.reporter.name,
            reporter_phone=filing.reporter.phone,
        )
        state = await file_new_complaint(tx, context, complaint_id, intake, at)
        notice = service_notice(effective_rule(filing.category.deadline_rule, Priority.NORMAL))
        created = Open311Created(service_request_id=complaint_id, service_notice=notice)
        return CommandResult(
            Open311Receipt([created]),
            version=state.version,
            headers={"Location": f"{PREFIX}/requests/{complaint_id}.json", "Content-Type": JSON_UTF8},
        )

    return await run_command(
        request, context.store, handle, actor=staff, scope="complaints.open311.file", status_code=201
    )


# -- anything else under /open311/v2 ----------------------------------------------------------------------------------


@router.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def not_offered(path: str) -> Response:
    """GeoReport's 404 (in its shape) for formats and resources this endpoint does not offer."""
    stem, dot, extension = path.rpartition(".")
    if dot and extension.lower() != "json":
        raise GeoReportError(
            404, f"this endpoint answers JSON only: ask for {PREFIX}/{stem}.json ({extension} is not offered)"
        )
    raise GeoReportError(404, f"{PREFIX}/{path} is not a GeoReport v2 resource of this endpoint")
