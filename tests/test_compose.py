"""`compose.yaml`: PostgreSQL, two `serve` and two `worker` containers from the Dockerfile.

No Docker engine runs here or in CI, so the file is checked without one: against the Compose
Specification's JSON Schema (vendored in tools/schemas, validated by `check-jsonschema`, offline),
and against this code base: every command is one the `samleng` CLI accepts, every variable it
or `samleng.env.example` sets is a real setting, the processes share what they must share.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from service.cli import build_parser
from service.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
SCHEMA = ROOT / "tools" / "schemas" / "compose-spec.json"
EXAMPLE = ROOT / "samleng.env.example"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA), str(path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())  # resolves the anchors and `<<` merges, as Compose does


def samleng_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s.get("image", "").startswith("samleng")}


def known_variables() -> set[str]:
    """Every environment variable the code reads: the settings, and the few read directly."""
    names = {field.alias for field in Settings.model_fields.values() if field.alias}
    for path in (ROOT / "service").rglob("*.py"):
        names.update(re.findall(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text()))
    return names


def test_compose_file_is_valid_by_the_compose_specification() -> None:
    done = validate(COMPOSE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_validator_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("stop_grace_period: 60s", "stop_grace_perod: 60s", 1))
    done = validate(broken)
    assert done.returncode != 0 and "stop_grace_perod" in done.stdout, done.stdout + done.stderr


def test_two_serve_and_two_worker_processes_on_postgresql(compose: dict) -> None:
    services = samleng_services(compose)
    commands = {name: s["command"] for name, s in services.items()}
    serves = [n for n, c in commands.items() if c[:2] == ["samleng", "serve"]]
    workers = [n for n, c in commands.items() if c[:2] == ["samleng", "worker"]]
    assert len(serves) == 2 and len(workers) == 2, commands
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    for name, service in services.items():
        url = service["environment"]["SAMLENG_DATABASE_URL"]
        assert re.fullmatch(r"postgresql\+psycopg://samleng:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432/samleng", url), url
        assert service["build"] == "." and service["env_file"] == "samleng.env", name
    # Each serve on its own loopback port, for the TLS proxy in front to spread requests over.
    ports = [p for n in serves for p in services[n]["ports"]]
    assert len(set(ports)) == 2 and all(p.startswith("127.0.0.1:") and p.endswith(":8000") for p in ports), ports


def test_every_command_is_one_the_cli_accepts(compose: dict) -> None:
    parser = build_parser()
    for name, service in samleng_services(compose).items():
        command = service["command"]
        assert command[0] == "samleng", name
        args = parser.parse_args(command[1:])
        assert callable(args.func), name
        if args.command == "serve":
            assert args.host == "0.0.0.0" and args.port == 8000  # the port the ports: lines publish  # noqa: S104


def test_serve_and_workers_start_after_the_migration_and_the_database(compose: dict) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["samleng", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in samleng_services(compose).items():
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name


def test_every_variable_set_is_a_real_setting(compose: dict) -> None:
    known = known_variables()
    for name, service in samleng_services(compose).items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets variables the code never reads: {unknown}"
    example = {line.split("=", 1)[0] for line in EXAMPLE.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert example - known == set(), example - known
    # The production checks refuse to start without these: the example names each one.
    assert {"SAMLENG_SECRET_KEY", "SAMLENG_PSEUDONYM_KEY", "SAMLENG_VAULT_KEY", "SAMLENG_PUBLIC_URL",
            "TWILIO_AUTH_TOKEN", "TELEGRAM_WEBHOOK_SECRET"} <= example


def test_every_process_shares_one_data_volume(compose: dict) -> None:
    """serve writes the spool and evidence files; the workers replay and purge them."""
    for name, service in samleng_services(compose).items():
        assert "samleng-data:/data" in service["volumes"], name
        env = service["environment"]
        assert env["SAMLENG_SPOOL_DIR"].startswith("/data/") and env["SAMLENG_EVIDENCE_DIR"].startswith("/data/"), name
    for name in ("worker-1", "worker-2"):
        grace = compose["services"][name]["stop_grace_period"]
        assert int(grace.rstrip("s")) >= 60, "a worker finishes the message in flight (docs/deployment.md)"
        assert compose["services"][name]["healthcheck"] == {"disable": True}, "the image's check asks serve's port"


def test_the_dockerfile_builds_what_compose_runs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "samleng" in (ROOT / "pyproject.toml").read_text().split("[project.scripts]", 1)[1].split("\n")[1]
    assert "EXPOSE 8000" in dockerfile and "/data" in dockerfile
