"""The container definitions: docker-compose.yml as a real compose implementation reads it
(`docker compose config`, which needs no engine), and each Dockerfile's shape."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = ("conversation", "payments", "notifier")
APPS = ("gateway", *CONSUMERS)
DOCKERFILES = {
    **{name: ROOT / "services" / name / "Dockerfile" for name in APPS},
    "sandbox": ROOT / "sandbox" / "Dockerfile",
}


@pytest.fixture(scope="module")
def compose(compose_command: list[str]) -> dict[str, Any]:
    files = ["--project-directory", str(ROOT), "-f", "docker-compose.yml"]
    result = subprocess.run(
        [*compose_command, *files, "config", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".tools")},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_compose_runs_the_whole_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {"rabbitmq", "postgres", *APPS, "sandbox", "prometheus", "grafana"}
    assert expected | {f"migrate-{name}" for name in CONSUMERS} == set(services)
    assert "management" in services["rabbitmq"]["image"]
    plugins = next(
        v for v in services["rabbitmq"]["volumes"] if v["target"] == "/etc/rabbitmq/enabled_plugins"
    )
    assert Path(plugins["source"]).read_text().strip() == (
        "[rabbitmq_management,rabbitmq_prometheus,rabbitmq_shovel,rabbitmq_shovel_management]."
    )


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name.startswith("migrate-"):
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in (*APPS, "sandbox"):
        probe = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert "/health" in probe and "PORT" in probe


def test_consumers_scale_no_host_port_no_container_name(compose: dict[str, Any]) -> None:
    for name in CONSUMERS:
        service = compose["services"][name]
        assert not service.get("ports"), f"{name} publishes a host port: it could not scale"
        assert "container_name" not in service
        assert service["expose"] == [str(8000 + APPS.index(name))]
        assert service["stop_grace_period"] == "45s"


def test_the_partitioned_consumers_get_one_partition_count(compose: dict[str, Any]) -> None:
    # Replicas with different counts would route one number's messages two ways.
    counts = {
        name: compose["services"][name]["environment"]["BROKER_PARTITIONS"]
        for name in ("conversation", "notifier")
    }
    assert set(counts.values()) == {"8"}, counts


def test_consumers_start_after_their_dependencies_and_their_migrations(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in CONSUMERS:
        depends = {k: v["condition"] for k, v in services[name]["depends_on"].items()}
        assert depends == {
            "rabbitmq": "service_healthy",
            "postgres": "service_healthy",
            f"migrate-{name}": "service_completed_successfully",
        }
        migrate = services[f"migrate-{name}"]
        assert migrate["command"] == ["python", "-m", "shared.migrate", name]
        assert migrate["image"] == services[name]["image"]
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    gateway = {k: v["condition"] for k, v in services["gateway"]["depends_on"].items()}
    assert gateway == {"rabbitmq": "service_healthy", "postgres": "service_healthy"}
    assert set(services["prometheus"]["depends_on"]) == set(APPS)
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_compose_builds_each_image_from_its_dockerfile(compose: dict[str, Any]) -> None:
    for name, dockerfile in DOCKERFILES.items():
        build = compose["services"][name]["build"]
        assert Path(build["context"]) == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == dockerfile


def test_monitoring_mounts_the_deploy_configuration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    prometheus = {v["target"]: v.get("source") for v in services["prometheus"]["volumes"]}
    assert Path(prometheus["/etc/prometheus"]) == ROOT / "deploy" / "prometheus"
    grafana = {v["target"]: v.get("source") for v in services["grafana"]["volumes"]}
    provisioning = Path(grafana["/etc/grafana/provisioning"])
    assert (provisioning / "datasources" / "prometheus.yml").exists()
    assert (provisioning / "dashboards" / "tutordesk.json").exists()


def test_secrets_pass_through_from_the_shell_and_are_never_written_in(
    compose: dict[str, Any],
) -> None:
    for name in APPS:
        env = compose["services"][name]["environment"]
        for secret in ("TWILIO_AUTH_TOKEN", "PAYSTACK_SECRET_KEY", "SENTRY_DSN"):
            assert secret in env and env[secret] is None, (name, secret)


def _workspace_members() -> list[str]:
    members: list[str] = []
    for pattern in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"][
        "members"
    ]:
        members += [str(p.relative_to(ROOT)) for p in sorted(ROOT.glob(pattern)) if p.is_dir()]
    return members


@pytest.mark.parametrize("name", list(DOCKERFILES))
def test_each_image_is_multi_stage_slim_non_root_healthchecked_and_locked(name: str) -> None:
    text = DOCKERFILES[name].read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, re.M)
    assert len(stages) >= 2 and all("slim" in image for image, _ in stages), stages
    runtime = text.rsplit("\nFROM ", 1)[1]
    assert "COPY --from=build /app/.venv /app/.venv" in runtime
    assert "uv" not in runtime.replace(".venv", "")  # no build tool in the final image
    user = re.search(r"^USER (\S+)", runtime, re.M)
    assert user is not None and not user.group(1).startswith(("0", "root"))
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", runtime, re.M)
    package = f"tutordesk-{name}"
    syncs = re.findall(r"uv sync ([^\n]+)", text)
    assert syncs and all("--frozen" in s and f"--package {package}" in s for s in syncs)
    # uv reads the whole workspace to honour the lock: every member's pyproject is copied.
    for member in _workspace_members():
        assert f"COPY {member}/pyproject.toml {member}/" in text, member
    assert f'CMD ["python", "-m", "{name}"]' in text
