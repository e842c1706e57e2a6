"""docker-compose.yml describes a deployment beyond one machine; no engine runs it here,
but Debian's docker-compose must accept it."""

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose_config(**environment: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: the test command installs Debian's package"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAST_")} | environment
    return subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_docker_compose_accepts_the_file():
    result = _compose_config(MAST_CLICKHOUSE_PASSWORD="from-the-operator")
    assert result.returncode == 0, result.stderr


def test_the_clickhouse_password_must_come_from_the_operator():
    result = _compose_config()
    assert result.returncode != 0
    assert "MAST_CLICKHOUSE_PASSWORD" in result.stderr


def test_compose_runs_every_part_of_the_stack():
    from stream_processors.app import ROLES

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert {"kafka", "clickhouse", "validator", "resolver", "sink", "api"} <= set(services)
    roles = {
        service["command"][service["command"].index("--role") + 1]: service
        for service in services.values()
        if "--role" in service.get("command", [])
    }
    assert set(roles) == set(ROLES)
    # resolution is one ordered sequence with its checkpoint on a volume
    assert roles["resolve"]["deploy"]["replicas"] == 1
    assert roles["resolve"]["volumes"]
    for name in ("validator", "resolver", "sink", "api"):
        environment = services[name]["environment"]
        assert environment["MAST_CLICKHOUSE_URL"].startswith("http")
        assert environment["MAST_KAFKA_BOOTSTRAP"] == "kafka:9092"
