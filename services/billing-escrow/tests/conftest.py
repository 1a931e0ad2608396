"""Fixtures for the billing-escrow service: the real app on a real store (SQLite and PostgreSQL), staff of every role,
a clock the test moves, and a desk that runs the common steps over HTTP.

Test modules import from here (``from ..conftest import ...``), never from each other.
"""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from billing_escrow.application.context import EscrowContext
from billing_escrow.bootstrap import build_store, create_app
from billing_escrow.settings import EscrowSettings
from jinlin.store.schema import events

ROLES = ["finance", "supervisor", "notary", "auditor", "intake"]
STAFF = [
    *({"token": f"test-token-of-{role}", "id": f"{role}-1", "roles": [role]} for role in ROLES),
    {"token": "test-token-of-finance-2", "id": "finance-2", "roles": ["finance"]},
    {"token": "test-token-of-notary-2", "id": "notary-2", "roles": ["notary"]},
    {"token": "test-token-of-dual", "id": "dual-1", "roles": ["finance", "notary"]},
    {"token": "test-token-of-everything", "id": "all-1", "roles": ["finance", "supervisor", "notary"]},
]
PROBLEM = "application/problem+json"

COMPOUND = "jinyuan-huating"
POWER_COMPANY = {"payee_id": "state-grid-tianchang", "name": "国网天长市供电公司", "bank_name": "中国工商银行天长支行"}
ARREARS_CONDITION = {"code": "power_company_confirms_arrears", "text": "供电公司书面确认小区总表欠费金额"}
WATER_CONDITION = {"code": "water_company_invoice", "text": "自来水公司开具的水费发票"}
BANK = {
    "bank_name": "中国工商银行天长支行",
    "account_number": "1313-0250-0920-0012-345",
    "account_name": "天长市红色物业资金监管户",
}


def as_role(role: str) -> dict[str, str]:
    """Headers of a staff member: ``finance`` is finance-1, ``finance-2`` the second one, ``dual``, ``everything``."""
    return {"Authorization": f"Bearer test-token-of-{role}"}


def money(role: str = "finance", key: str | None = None) -> dict[str, str]:
    """Headers of a money command: the staff member and a fresh (or given) Idempotency-Key."""
    return as_role(role) | {"Idempotency-Key": key or uuid.uuid4().hex}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = dict(response.json())
    assert body["status"] == status and body["title"] and body["type"]
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class FakeClock:
    """A clock the test moves forward. It starts on Monday 2 November 2026, 09:00 in Tianchang."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    @property
    def today(self) -> date:
        return (self.now + timedelta(hours=8)).date()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def staff_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = tmp_path / "staff.json"
    tokens.write_text(json.dumps(STAFF))
    monkeypatch.setenv("JINLIN_STAFF_TOKENS_FILE", str(tokens))


def settings_for(database_url: str, **overrides: Any) -> EscrowSettings:
    """Without NATS unless told otherwise (``nats_url=..., relay_enabled=True``)."""
    defaults: dict[str, Any] = {
        "nats_url": "nats://127.0.0.1:1",
        "relay_enabled": False,
        "consumers_enabled": False,
        "expiry_check_interval": 3600,  # the job's own loop stays asleep: tests run the passes
        "log_format": "json",
        "log_level": "warning",
    }
    return EscrowSettings(database_url=database_url, **(defaults | overrides))


Running = tuple[httpx.AsyncClient, EscrowContext]


@pytest.fixture
def run_service(
    staff_env: None, clock: FakeClock, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[Running]]:
    """``async with run_service(database_url) as (client, context)``: one "process" of the service, its lifespan run.

    Several may run at once on the same database (two replicas), or one after another (a restart).
    """

    @asynccontextmanager
    async def run(database_url: str, **overrides: Any) -> AsyncIterator[Running]:
        settings = settings_for(database_url, **overrides)
        context = EscrowContext(
            store=build_store(database_url), clock=clock, signing_key_file=tmp_path / "keys" / "statement-key.pem"
        )
        app = create_app(settings, context)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://escrow.test") as client:
                yield client, context

    return run


@pytest.fixture
async def service(
    database_url: str, run_service: Callable[..., AbstractAsyncContextManager[Running]]
) -> AsyncIterator[Running]:
    """The billing-escrow app without NATS (commands still land in the store, the outbox), on SQLite and PostgreSQL."""
    async with run_service(database_url) as running:
        yield running


async def event_types(context: EscrowContext, stream: str | None = None) -> list[str]:
    """The short type names (``PaymentReceived``) of every stored event, in log order (of one stream if given)."""
    query = select(events.c.type).order_by(events.c.sequence)
    if stream is not None:
        query = query.where(events.c.stream == stream)
    async with context.store.engines.reader.connect() as conn:
        return [t.split(".")[2] for t in (await conn.execute(query)).scalars()]


class Desk:
    """The steps a test needs again and again, over HTTP, each asserting that it worked."""

    def __init__(self, client: httpx.AsyncClient, clock: FakeClock, compound: str = COMPOUND) -> None:
        self.client = client
        self.clock = clock
        self.compound = compound

    async def active_account(
        self, account_id: str = "acc-elec", *, purpose: str = "electricity", owners_committee: bool = False
    ) -> dict[str, Any]:
        body = {"account_id": account_id, "compound_id": self.compound, "purpose": purpose}
        if owners_committee:
            body["owners_committee_signs"] = True
        ok(await self.client.post("/accounts", json=body, headers=as_role("finance")), 201)
        opened = {
            "notary_reference": "(2026)皖滁天证字第0301号",
            "supervising_notary_name": "赵公证员",
            "bank_account": BANK,
        }
        ok(await self.client.post(f"/accounts/{account_id}/open", json=opened, headers=as_role("notary")))
        return dict(ok(await self.client.post(f"/accounts/{account_id}/activate", headers=as_role("finance"))))

    async def household(self, household_id: str, floor_area_dm2: int = 8937, label: str | None = None) -> None:
        body = {
            "household_id": household_id,
            "compound_id": self.compound,
            "label": label or f"3栋2单元{household_id[-3:]}",
            "floor_area_dm2": floor_area_dm2,
        }
        ok(await self.client.post("/households", json=body, headers=as_role("finance")), 201)

    async def pay(
        self,
        account_id: str,
        household_id: str,
        amount_fen: int,
        reference: str | None = None,
        *,
        booked_on: date | None = None,
        movement_id: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "movement_id": movement_id or f"pay-{uuid.uuid4().hex[:10]}",
            "household_id": household_id,
            "amount_fen": amount_fen,
            "channel": "bank_transfer",
            "reference": reference or f"ICBC{uuid.uuid4().hex[:12].upper()}",
        }
        if booked_on is not None:
            body["booked_on"] = booked_on.isoformat()
        return dict(ok(await self.client.post(f"/accounts/{account_id}/payments", json=body, headers=money()), 201))

    async def request_disbursement(
        self,
        account_id: str,
        disbursement_id: str,
        amount_fen: int,
        *,
        condition: dict[str, str] | None = None,
        payee: dict[str, str] | None = None,
        expires_at: datetime | None = None,
        role: str = "finance",
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "disbursement_id": disbursement_id,
            "payee": payee or POWER_COMPANY,
            "amount_fen": amount_fen,
            "condition": condition or WATER_CONDITION,
            "evidence": ["供电公司欠费确认函 2026-0117"],
        }
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        return await self.client.post(f"/accounts/{account_id}/disbursements", json=body, headers=money(role))

    async def sign(self, account_id: str, disbursement_id: str, role: str, staff: str) -> httpx.Response:
        url = f"/accounts/{account_id}/disbursements/{disbursement_id}/signatures"
        return await self.client.post(url, json={"role": role}, headers=money(staff))

    async def execute(
        self, account_id: str, disbursement_id: str, bank_reference: str = "ICBC-OUT-0001"
    ) -> httpx.Response:
        url = f"/accounts/{account_id}/disbursements/{disbursement_id}/execute"
        return await self.client.post(url, json={"bank_reference": bank_reference}, headers=money())

    async def signed_and_executed(self, account_id: str, disbursement_id: str) -> dict[str, Any]:
        ok(await self.sign(account_id, disbursement_id, "center_finance", "finance-2"))
        ok(await self.sign(account_id, disbursement_id, "notary", "notary"))
        return dict(ok(await self.execute(account_id, disbursement_id)))

    async def account(self, account_id: str) -> dict[str, Any]:
        return dict(ok(await self.client.get(f"/accounts/{account_id}", headers=as_role("auditor"))))

    async def balances(self, account_id: str, as_of: date | None = None) -> dict[str, Any]:
        params = {"as_of": as_of.isoformat()} if as_of else {}
        return dict(
            ok(await self.client.get(f"/accounts/{account_id}/balances", params=params, headers=as_role("auditor")))
        )


@pytest.fixture
def desk(service: Running, clock: FakeClock) -> Desk:
    return Desk(service[0], clock)
