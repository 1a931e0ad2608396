"""Fixtures for the mediation service: the real app on a real store, staff of every role, and the complaints desk's
escalation events as its relay publishes them (built from the published contract, never from its code).

Test modules cannot import each other (pytest's importlib mode); they import from this conftest, or get helpers as
fixtures.
"""

import base64
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from jinlin.events.chain import GENESIS_HASH, event_hash
from jinlin.store import CommandContext
from mediation.application.context import MediationContext
from mediation.application.escalations import DURABLE, Escalations
from mediation.bootstrap import build_store, create_app
from mediation.settings import MediationSettings

ROLES = ["intake", "handler", "mediator", "finance", "supervisor", "notary", "auditor"]
STAFF = [{"token": f"test-token-of-{role}", "id": f"{role}-1", "roles": [role]} for role in ROLES]
DOCS = next(parent for parent in Path(__file__).parents if (parent / "docs" / "events").is_dir()) / "docs" / "events"
COMPOUND = "jinyuan-huating"
ARREARS_PAID = "jinlin.escrow.ArrearsPaid.v1"


class FakeClock:
    """A clock the test moves forward (a case's month and its obligations are days long)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def staff_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = tmp_path / "staff.json"
    tokens.write_text(json.dumps(STAFF))
    monkeypatch.setenv("JINLIN_STAFF_TOKENS_FILE", str(tokens))


def as_role(role: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer test-token-of-{role}", **headers}


def settings_for(database_url: str, **overrides: Any) -> MediationSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": "nats://127.0.0.1:1",
        "relay_enabled": False,
        "consumers_enabled": False,
        "overdue_check_interval": 3600,  # the job's own loop stays asleep: tests run the passes
        "log_format": "json",
    }
    return MediationSettings(**(values | overrides))


Service = tuple[httpx.AsyncClient, MediationContext]


@pytest.fixture
async def service(database_url: str, staff_env: None, clock: FakeClock) -> AsyncIterator[Service]:
    """The mediation app with its lifespan run, without NATS (commands still land in the store, the outbox)."""
    context = MediationContext(store=build_store(database_url), clock=clock)
    app = create_app(settings_for(database_url), context)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mediation.test") as client:
            yield client, context


# --- the complaints desk's escalation, as its relay publishes it -----------------------------------------------------


def sealed_by_complaints() -> str:
    """What a name sealed by the complaints service looks like (``pd1:`` + base64url of nonce and ciphertext):
    mediation holds no key for it."""
    return "pd1:" + base64.urlsafe_b64encode(os.urandom(12 + 6 + 16)).decode()


def escalation_parties(resident_name_enc: str | None = None) -> list[dict[str, Any]]:
    return [
        {"role": "property_company", "organisation": "天长市金园物业服务有限公司"},
        {"role": "utility", "organisation": "国网天长市供电公司"},
        {"role": "owners_committee", "organisation": "金园华庭业主委员会"},
        {
            "role": "residents_representative",
            "person_ref": "p-" + uuid.uuid4().hex[:24],
            "person_name_enc": resident_name_enc or sealed_by_complaints(),
        },
    ]


class ComplaintsRelay:
    """Builds ComplaintEscalatedToMediation CloudEvents as the complaints service's relay publishes them: its own
    hash-chained log, each event checked against the published schemas (envelope and data)."""

    def __init__(self) -> None:
        self.sequence = 0
        self.prevhash = GENESIS_HASH
        self.envelope = Draft202012Validator(json.loads((DOCS / "cloudevent.schema.json").read_text()))
        self.data = Draft202012Validator(
            json.loads((DOCS / "complaints" / "ComplaintEscalatedToMediation.v1.schema.json").read_text())
        )

    def escalation(
        self,
        case_id: str,
        complaint_id: str,
        complaint_ids: list[str],
        *,
        parties: list[dict[str, Any]] | None = None,
        at: datetime | None = None,
        reason: str = "物业公司拖欠小区总表电费，影响一户一表直供电改造",
    ) -> dict[str, Any]:
        self.sequence += 1
        at = at or datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
        data = {
            "complaint_id": complaint_id,
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
            "case_id": case_id,
            "complaint_ids": sorted(complaint_ids),
            "compound_id": COMPOUND,
            "category_code": "electricity",
            "reason": reason,
            "parties": parties if parties is not None else escalation_parties(),
        }
        fields: dict[str, Any] = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/jinlin/complaints",
            "type": "jinlin.complaints.ComplaintEscalatedToMediation.v1",
            "subject": complaint_id,
            "time": at.isoformat(timespec="microseconds"),
            "datacontenttype": "application/json",
            "data": data,
            "caseid": case_id,
            "causationid": str(uuid.uuid4()),
            "actor": "staff:handler-1",
            "streamversion": 4,
            "sequence": self.sequence,
            "prevhash": self.prevhash,
        }
        fields["hash"] = self.prevhash = event_hash(fields)
        assert list(self.envelope.iter_errors(fields)) == []
        assert list(self.data.iter_errors(data)) == []
        return fields

    def group(self, case_id: str, complaint_ids: list[str], **options: Any) -> list[dict[str, Any]]:
        """One escalation of a case: an event per complaint, the same case id, complaints and parties."""
        parties = options.pop("parties", None) or escalation_parties()
        return [self.escalation(case_id, c, complaint_ids, parties=parties, **options) for c in complaint_ids]


@pytest.fixture
def complaints_relay() -> ComplaintsRelay:
    return ComplaintsRelay()


async def take_in(context: MediationContext, event: dict[str, Any]) -> bool:
    """What the escalations consumer does with one delivery (without NATS): claim the event id, run the handler,
    in one transaction. False for a redelivery."""
    from jinlin.events import CloudEvent

    cloud_event = CloudEvent.model_validate(event)
    command = CommandContext(actor=f"consumer:{DURABLE}", causationid=cloud_event.id, caseid=cloud_event.caseid)
    async with context.store.transaction(command) as tx:
        if not await tx.claim_message(DURABLE, cloud_event.id):
            return False
        await Escalations(context)(tx, cloud_event)
        return True


class Desk:
    """The mediator's side of a test: commands through HTTP, following each case's ETag."""

    def __init__(self, client: httpx.AsyncClient, context: MediationContext, clock: FakeClock) -> None:
        self.client = client
        self.context = context
        self.clock = clock
        self.relay = ComplaintsRelay()
        self.etags: dict[str, str] = {}

    async def post(
        self, case_id: str, path: str, body: dict[str, Any] | None = None, *, role: str = "mediator", status: int = 200
    ) -> dict[str, Any]:
        headers = as_role(role, **{"Idempotency-Key": uuid.uuid4().hex})
        if case_id in self.etags:
            headers["If-Match"] = self.etags[case_id]
        response = await self.client.post(f"/cases/{case_id}{path}", json=body, headers=headers)
        assert response.status_code == status, response.text
        if response.is_success:
            self.etags[case_id] = response.headers["etag"]
        answer: dict[str, Any] = response.json()
        return answer

    async def refer(self, case_id: str, complaint_ids: list[str] | None = None, **options: Any) -> None:
        for event in self.relay.group(case_id, complaint_ids or [f"c-{case_id}-1", f"c-{case_id}-2"], **options):
            await take_in(self.context, event)
        detail = await self.client.get(f"/cases/{case_id}", headers=as_role("auditor"))
        self.etags[case_id] = detail.headers["etag"]

    async def accepted(self, case_id: str, **options: Any) -> dict[str, Any]:
        """Referred (four parties: property company, power company, owners' committee, a residents' representative),
        accepted, with a mediator."""
        await self.refer(case_id, **options)
        await self.post(case_id, "/accept")
        return await self.post(case_id, "/mediator", {"mediator": {"id": "m-chen", "name": "陈静"}}, role="supervisor")

    def terms(self, *, arrears_in: timedelta = timedelta(days=10), meters_in: timedelta = timedelta(days=40)) -> list:
        now = self.clock.now
        return [
            {
                "term_id": "t-arrears",
                "obligor": "party-1",
                "what": "物业公司将代收电费移交监管账户，由监管账户向供电公司结清小区总表欠费",
                "due_at": (now + arrears_in).isoformat(),
                "evidence_required": "供电公司出具的结清证明",
                "fulfilled_by": {
                    "service": "escrow",
                    "event_type": ARREARS_PAID,
                    "match": {"compound_id": COMPOUND, "fully_paid": True},
                },
            },
            {
                "term_id": "t-meters",
                "obligor": "party-2",
                "what": "欠费结清后完成一户一表改造，逐户直供电",
                "due_at": (now + meters_in).isoformat(),
                "evidence_required": "改造竣工验收单",
            },
        ]

    async def agreed(self, case_id: str, **options: Any) -> dict[str, Any]:
        """Accepted, an agreement between party-1, party-2 and party-3 drafted and signed by all three."""
        terms = options.pop("terms", None)
        await self.accepted(case_id, **options)
        await self.post(
            case_id,
            "/agreement",
            {
                "party_ids": ["party-1", "party-2", "party-3"],
                "facts": "金园华庭物业公司未按期缴纳小区总表电费，供电公司因欠费无法实施一户一表直供电改造。",
                "issues": ["总表欠费由谁承担、如何结清", "改造完成时间"],
                "terms": terms if terms is not None else self.terms(),
            },
        )
        answer = {}
        for party_id in ("party-1", "party-2", "party-3"):
            answer = await self.post(case_id, "/agreement/signatures", {"party_id": party_id})
        assert answer["status"] == "agreement_in_effect"
        return answer


@pytest.fixture
def desk(service: Service, clock: FakeClock) -> Desk:
    client, context = service
    return Desk(client, context, clock)


async def agreed_with_a_resident(desk: Desk, clock: FakeClock) -> None:
    """Case "case-doc": referred, accepted, a resident added (party-5, 李桂兰, sealed here), a meeting held with
    party-1, party-2 and party-5 invited, and an agreement between them drafted (not yet signed): party-1 pays the
    arrears, party-5 sees to the meters."""
    await desk.accepted("case-doc")
    await desk.post("case-doc", "/parties", {"kind": "resident", "person_name": "李桂兰"})
    for party in ("party-1", "party-2", "party-4", "party-5"):
        await desk.post("case-doc", f"/parties/{party}/rights-informed", {"note": "口头告知"})
    starts = clock.now + timedelta(hours=2)
    await desk.post("case-doc", "/meetings", {"place": "金园华庭党群服务站", "starts_at": starts.isoformat(),
                                              "ends_at": (starts + timedelta(hours=2)).isoformat(),
                                              "agenda": ["欠费金额核对", "改造时间表"]})  # fmt: skip
    await desk.post("case-doc", "/meetings/meeting-1/invitations", {"party_ids": ["party-1", "party-2", "party-5"]})
    await desk.post("case-doc", "/meetings/meeting-1/rsvps", {"party_id": "party-2", "rsvp": "no"})
    clock.advance(hours=2, minutes=10)
    await desk.post("case-doc", "/meetings/meeting-1/attendance", {"party_id": "party-1", "attended": True})
    await desk.post("case-doc", "/meetings/meeting-1/attendance", {"party_id": "party-2", "attended": False})
    await desk.post("case-doc", "/meetings/meeting-1/minutes", {"minutes": "三方确认欠费金额为十二万元。"})
    await desk.post(
        "case-doc",
        "/agreement",
        {
            "party_ids": ["party-1", "party-2", "party-5"],
            "facts": "物业公司拖欠小区总表电费 <script>alert(1)</script>。",
            "issues": ["总表欠费如何结清", "改造何时完成"],
            "terms": [term | {"obligor": "party-5" if term["term_id"] == "t-meters" else term["obligor"]}
                      for term in desk.terms()],
        },
    )  # fmt: skip
