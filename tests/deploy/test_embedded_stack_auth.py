"""`jinlin up` runs nats-server with the users of `jinlin nats init-auth` (keys under var/nats-auth/, kept across
starts) and every service connects, relays and consumes as its own user, with nothing refused along the way."""

import asyncio
import stat
import time
from pathlib import Path

import httpx
import nats
import nats.errors
import pytest

from jinlin.cli.dev_staff import dev_token
from jinlin.cli.layout import Layout
from jinlin.cli.stack import NATS_AUTH_DIR, Stack
from jinlin.messaging import connect_nats
from jinlin.natsauth.generate import init_auth
from jinlin.natsauth.policy import DECLARED_CONSUMERS
from jinlin.runtime.ports import free_port
from jinlin.service import registered_services

COMPLAINT = {
    "category_code": "electricity",
    "channel": "phone",
    "priority": "urgent",
    "compound_id": "jinyuan-huating",
    "building": "3栋",
    "unit": "2单元",
    "description": "小区停电",
    "answers": {"issue": "arrears", "households_affected": 3},
    "reporter": {"name": "测试", "phone": "13900000000"},
}


async def _messages(url: str, creds: Path, stream: str) -> int:
    nc = await connect_nats(url, name="provisioner", creds=creds, first_connect_timeout=5)
    try:
        return (await nc.jetstream().stream_info(stream)).state.messages
    finally:
        await nc.close()


async def _consumers(url: str, creds: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """The event streams that exist, and the consumers on them."""
    nc = await connect_nats(url, name="provisioner", creds=creds, first_connect_timeout=5)
    try:
        js = nc.jetstream()
        streams = {info.config.name for info in await js.streams_info()} & {"COMPLAINTS", "MEDIATION", "ESCROW"}
        return streams, {(stream, info.name) for stream in streams for info in await js.consumers_info(stream)}
    finally:
        await nc.close()


async def _connect_anonymously(url: str) -> None:
    await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


def test_jinlin_up_runs_every_service_as_its_own_nats_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = registered_services()
    for spec in specs:  # the children get what the stack gives them, not this machine's settings
        for setting in ("DATABASE_URL", "NATS_URL", "NATS_CREDS", "PORT"):
            monkeypatch.delenv(f"{spec.env_prefix}{setting}", raising=False)
    layout = Layout(var_dir=tmp_path / "var", nats_port=free_port())
    existing = init_auth(layout.var_dir / NATS_AUTH_DIR, specs)  # as a first `jinlin up` left them
    stack = Stack(layout, specs, {spec.name: free_port() for spec in specs})
    try:
        stack.start()
        stack.wait_ready()
        assert stack.auth is not None
        assert [(u.name, u.public_key) for u in stack.auth.users] == [(u.name, u.public_key) for u in existing.users]
        for user in stack.auth.users:
            assert stat.S_IMODE(user.seed_path.stat().st_mode) == 0o600

        with pytest.raises(nats.errors.Error, match=r"(?i)authorization violation"):
            asyncio.run(_connect_anonymously(layout.nats_url))

        if any(spec.name == "complaints" for spec in specs):
            complaints = next(child for child in stack.services if child.spec.name == "complaints")
            filed = httpx.post(
                f"{complaints.url}/complaints",
                headers={"Authorization": f"Bearer {dev_token('intake')}", "Idempotency-Key": "embedded-auth-1"},
                json=COMPLAINT,
                timeout=10,
            )
            assert filed.status_code == 201, filed.text
            provisioner = stack.auth.seed_path("provisioner")
            deadline = time.monotonic() + 20
            while asyncio.run(_messages(layout.nats_url, provisioner, "COMPLAINTS")) < 1:
                assert time.monotonic() < deadline, "the relay never published the complaint"
                time.sleep(0.2)

        # Every declared consumer on a stream that exists has been created by its service, under its own user.
        provisioner = stack.auth.seed_path("provisioner")
        declared = {(g.stream, g.durable) for spec in specs for g in DECLARED_CONSUMERS.get(spec.name, ())}
        deadline = time.monotonic() + 30
        while True:
            streams, durables = asyncio.run(_consumers(layout.nats_url, provisioner))
            missing = {(stream, durable) for stream, durable in declared if stream in streams} - durables
            if not missing:
                break
            assert time.monotonic() < deadline, f"consumers never created: {missing}"
            time.sleep(0.3)
        nats_log = (layout.var_dir / "logs" / "nats.log").read_text()
        assert [line for line in nats_log.splitlines() if "Violation" in line] == []
    finally:
        stack.stop()
