"""deploy/k8s rendered by real Kustomize (kubectl's) and every object validated offline
against the Kubernetes JSON schemas (the kubernetes-validate package carries them); the
KEDA objects, whose CRD schemas no package here carries, are checked field by field."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.messaging import partitions as layout

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30"
PORTS = {"gateway": 8000, "conversation": 8001, "payments": 8002, "notifier": 8003}
CONSUMERS = ("conversation", "payments", "notifier")
PARTITIONED = ("conversation", "notifier")
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}


def kustomize_command() -> list[str]:
    for command in (["kubectl", "kustomize"], ["kustomize", "build"]):
        if shutil.which(command[0]):
            return command
    message = "neither kubectl (with its kustomize) nor kustomize is on this machine"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    print(f"\n!!! SKIPPING the Kubernetes rendering tests: {message} !!!\n")
    pytest.skip(message)


def render(overlay: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [*kustomize_command(), str(K8S / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_every_object_is_valid_against_the_kubernetes_schemas(
    objects: list[dict[str, Any]],
) -> None:
    checked = 0
    for obj in objects:
        if obj["kind"] in KEDA_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {where}: {exc.message}")
        checked += 1
    assert checked >= 17


def test_the_schemas_catch_a_wrong_field() -> None:
    # The validation above could pass by checking nothing: show that it refuses a typo.
    deployment = next(o for o in render("base") if o["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_each_service_has_a_deployment_service_and_disruption_budget(
    objects: list[dict[str, Any]],
) -> None:
    deployments = by_kind(objects, "Deployment")
    services = by_kind(objects, "Service")
    budgets = by_kind(objects, "PodDisruptionBudget")
    assert set(deployments) == set(services) == set(budgets) == set(PORTS)
    for name, port in PORTS.items():
        pod = deployments[name]["spec"]["template"]
        selector = deployments[name]["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert services[name]["spec"]["selector"] == selector
        assert budgets[name]["spec"]["selector"]["matchLabels"] == selector
        assert services[name]["spec"]["ports"][0]["port"] == port
        assert pod["spec"]["terminationGracePeriodSeconds"] >= 30
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_probes_ask_health_on_the_port_the_service_listens_on(
    objects: list[dict[str, Any]],
) -> None:
    for name, deployment in by_kind(objects, "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["PORT"] == str(PORTS[name])
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[name]}]
        for probe in ("startupProbe", "readinessProbe"):
            assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
        assert container["livenessProbe"]["tcpSocket"]["port"] == "http"
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys()
        assert "memory" in resources["limits"]


def test_configuration_comes_from_the_generated_config_map_and_the_secret(
    objects: list[dict[str, Any]],
) -> None:
    (config_name,) = by_kind(objects, "ConfigMap")
    assert config_name.startswith("tutordesk-config-")  # hashed: a change rolls the pods
    pods = [d["spec"]["template"]["spec"] for d in by_kind(objects, "Deployment").values()]
    pods.append(by_kind(objects, "Job")["migrate"]["spec"]["template"]["spec"])
    for pod in pods:
        for container in pod.get("initContainers", []) + pod["containers"]:
            sources = container["envFrom"]
            assert {"configMapRef": {"name": config_name}} in sources
            assert {"secretRef": {"name": "tutordesk-secrets"}} in sources
    assert not by_kind(objects, "Secret"), "no Secret is committed: it is created by hand"


def test_the_gateway_scales_on_cpu_and_each_consumer_on_its_queue(
    objects: list[dict[str, Any]],
) -> None:
    (hpa,) = by_kind(objects, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "gateway",
    }
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    scaled = by_kind(objects, "ScaledObject")
    assert set(scaled) == set(CONSUMERS)
    auth = by_kind(objects, "TriggerAuthentication")
    for name, obj in scaled.items():
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        assert set(obj["spec"]) <= {
            "scaleTargetRef",
            "minReplicaCount",
            "maxReplicaCount",
            "pollingInterval",
            "cooldownPeriod",
            "triggers",
            "advanced",
        }
        assert obj["spec"]["scaleTargetRef"] == {"name": name}
        assert 1 <= obj["spec"]["minReplicaCount"] < obj["spec"]["maxReplicaCount"]
        (trigger,) = obj["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert int(trigger["metadata"]["value"]) > 0
        assert trigger["authenticationRef"]["name"] in auth
    payments = scaled["payments"]["spec"]["triggers"][0]
    assert payments["metadata"]["protocol"] == "amqp"
    assert payments["metadata"]["queueName"] == "payments"
    assert payments["authenticationRef"]["name"] == "rabbitmq-trigger-auth"
    (secret_ref,) = auth["rabbitmq-trigger-auth"]["spec"]["secretTargetRef"]
    assert secret_ref == {"parameter": "host", "name": "tutordesk-secrets", "key": "RABBITMQ_URL"}


def partition_count(objects: list[dict[str, Any]]) -> int:
    (config,) = by_kind(objects, "ConfigMap").values()
    return int(config["data"]["BROKER_PARTITIONS"])


def test_the_partitioned_consumers_scale_on_all_their_partitions_and_no_further(
    objects: list[dict[str, Any]],
) -> None:
    partitions = partition_count(objects)
    scaled = by_kind(objects, "ScaledObject")
    auth = by_kind(objects, "TriggerAuthentication")
    for name in PARTITIONED:
        # A replica past the partition count only stands by.
        assert scaled[name]["spec"]["maxReplicaCount"] <= partitions
        (trigger,) = scaled[name]["spec"]["triggers"]
        metadata = trigger["metadata"]
        # amqp reads one queue by its exact name: the partitions need the management API.
        assert metadata["protocol"] == "http"
        assert metadata["useRegex"] == "true"
        assert metadata["operation"] == "sum"
        assert metadata["excludeUnacknowledged"] == "true"
        pattern = re.compile(metadata["queueName"])
        queues = [layout.queue_name(name, p) for p in range(layout.SLOTS)]
        assert all(pattern.search(queue) for queue in queues), metadata["queueName"]
        others = [name, f"{name}.dead", f"{name}.retry", "notifier.bulk", "notifier.bulk.dead"]
        others += [layout.exchange_name(name), f"{layout.queue_name(name, 1)}.dead"]
        assert not [queue for queue in others if pattern.search(queue)], metadata["queueName"]
        assert trigger["authenticationRef"]["name"] == "rabbitmq-management-trigger-auth"
    (secret_ref,) = auth["rabbitmq-management-trigger-auth"]["spec"]["secretTargetRef"]
    assert secret_ref == {
        "parameter": "host",
        "name": "tutordesk-secrets",
        "key": "RABBITMQ_MANAGEMENT_URL",
    }


def test_every_replica_reads_the_partition_count_from_the_one_config_map(
    objects: list[dict[str, Any]],
) -> None:
    assert 1 <= partition_count(objects) <= layout.SLOTS
    for name in PARTITIONED:
        (container,) = by_kind(objects, "Deployment")[name]["spec"]["template"]["spec"][
            "containers"
        ]
        assert "BROKER_PARTITIONS" not in {e["name"] for e in container.get("env", [])}


def test_migrations_run_once_per_service_in_its_own_image(objects: list[dict[str, Any]]) -> None:
    pod = by_kind(objects, "Job")["migrate"]["spec"]["template"]["spec"]
    containers = pod["initContainers"] + pod["containers"]
    assert [c["command"] for c in containers] == [
        ["python", "-m", "shared.migrate", name] for name in CONSUMERS
    ]
    for container in containers:
        assert container["image"].split(":")[0].endswith(f"tutordesk/{container['name']}")


def test_the_backup_dumps_every_service_schema_nightly(objects: list[dict[str, Any]]) -> None:
    cron = by_kind(objects, "CronJob")["postgres-backup"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["BACKUP_SCHEMAS"]["value"].split() == list(CONSUMERS)
    assert env["BACKUP_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "tutordesk-secrets"
    script = container["args"][0]
    assert "pg_dump --format=custom --schema=" in script
    claim = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"][0]
    assert claim["persistentVolumeClaim"]["claimName"] in by_kind(objects, "PersistentVolumeClaim")


def test_production_uses_released_images_in_its_namespace() -> None:
    objects = render("overlays/production")
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "tutordesk", obj["metadata"]["name"]
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert config["data"]["APP_ENV"] == "production"
    for deployment in by_kind(objects, "Deployment").values():
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.startswith("registry.example.com/tutordesk/") and image.endswith(":0.1.0")
