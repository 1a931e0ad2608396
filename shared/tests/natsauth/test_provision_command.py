"""`jinlin nats provision`: the provisioner creates every stream of the contract up front; nobody else can."""

import asyncio

from click.testing import CliRunner

from jinlin.cli.main import cli
from jinlin.messaging import connect_nats


async def _streams(url: str, creds) -> dict[str, list[str]]:
    nc = await connect_nats(url, name="check", creds=creds, first_connect_timeout=5)
    try:
        return {info.config.name: info.config.subjects for info in await nc.jetstream().streams_info()}
    finally:
        await nc.close()


def test_the_provisioner_creates_every_stream_and_a_service_cannot(secured_nats, auth) -> None:
    runner = CliRunner()
    refused = runner.invoke(
        cli, ["nats", "provision", "--nats-url", secured_nats.url, "--creds", str(auth.seed_path("complaints"))]
    )
    assert refused.exit_code != 0
    assert "provisioner" in refused.output
    # A service may create its own stream, and nothing else.
    assert asyncio.run(_streams(secured_nats.url, auth.seed_path("provisioner"))) == {
        "COMPLAINTS": ["jinlin.complaints.>"]
    }

    result = runner.invoke(
        cli, ["nats", "provision", "--nats-url", secured_nats.url, "--creds", str(auth.seed_path("provisioner"))]
    )
    assert result.exit_code == 0, result.output
    assert asyncio.run(_streams(secured_nats.url, auth.seed_path("provisioner"))) == {
        "COMPLAINTS": ["jinlin.complaints.>"],
        "MEDIATION": ["jinlin.mediation.>"],
        "ESCROW": ["jinlin.escrow.>"],
        "DEADLETTER": ["jinlin.dlq.>"],
    }
    again = runner.invoke(
        cli, ["nats", "provision", "--nats-url", secured_nats.url, "--creds", str(auth.seed_path("provisioner"))]
    )
    assert again.exit_code == 0, again.output
