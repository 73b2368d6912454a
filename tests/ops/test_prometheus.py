"""The monitoring in deploy/: promtool accepts the config and rules, the alert rules fire
as their unit tests say, every alert has its runbook section, and a real Prometheus
scraping the whole system (separate processes on RabbitMQ and PostgreSQL) sees every
service up and the key series after the ordering scenario, and can run every dashboard
panel's query."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shared.testing import free_port
from stack.testing import SERVICES, Stack, Student

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "tutordesk.json"
RUNBOOK = ROOT / "deploy" / "RUNBOOK.md"
SEED = ("hi", "1", "1 x 10", "place order", "yes")


def promtool(tools: Path, *args: str, cwd: Path = PROMETHEUS) -> str:
    result = subprocess.run(
        [str(tools / "usr" / "bin" / "promtool"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_accepts_the_config_and_its_rule_files(prometheus_tools: Path) -> None:
    output = promtool(prometheus_tools, "check", "config", "prometheus.yml")
    assert "SUCCESS: 1 rule files found" in output
    assert f"SUCCESS: {len(alert_rules())} rules found" in output


def test_promtool_accepts_the_alert_rules(prometheus_tools: Path) -> None:
    output = promtool(prometheus_tools, "check", "rules", "alerts.yml")
    assert f"SUCCESS: {len(alert_rules())} rules found" in output


def test_alert_rules_fire_as_their_unit_tests_expect(prometheus_tools: Path) -> None:
    output = promtool(prometheus_tools, "test", "rules", "alerts_test.yml")
    assert "SUCCESS" in output


def test_every_alert_names_a_runbook_section_that_exists() -> None:
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("#")
    }
    rules = alert_rules()
    assert len(rules) >= 10
    for rule in rules:
        url = rule["annotations"]["runbook_url"]
        path, _, anchor = url.partition("#")
        assert path == "deploy/RUNBOOK.md", url
        assert anchor == rule["alert"].lower(), url
        assert anchor in headings, f"{rule['alert']}: no section #{anchor} in RUNBOOK.md"
        assert rule["labels"]["severity"] in {"page", "ticket"}


def test_the_committed_dashboard_is_what_its_generator_writes() -> None:
    generated = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "grafana" / "build_dashboard.py"), "--print"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert DASHBOARD.read_text() == generated
    rows = [p["title"] for p in json.loads(generated)["panels"] if p["type"] == "row"]
    assert rows == ["Key metrics", *SERVICES]


def dashboard_queries() -> list[tuple[str, str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [
        (panel["title"], target["expr"])
        for panel in panels
        if panel["type"] != "row"
        for target in panel["targets"]
    ]


# --- a real Prometheus scraping the running system ------------------------------------


def scrape_config(stack: Stack) -> dict[str, Any]:
    """The deploy config's jobs and rules, pointed at this stack's ports instead of DNS."""
    deployed = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = []
    for job in deployed["scrape_configs"]:
        if job["job_name"] in SERVICES:
            address = stack.urls[job["job_name"]].removeprefix("http://")
            jobs.append(
                {
                    "job_name": job["job_name"],
                    "metrics_path": job["metrics_path"],
                    "static_configs": [{"targets": [address]}],
                }
            )
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(PROMETHEUS / "alerts.yml")],
        "scrape_configs": jobs,
    }


@pytest.fixture(scope="module")
def prometheus(
    prometheus_tools: Path, services_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("prometheus")
    config = work / "prometheus.yml"
    config.write_text(yaml.safe_dump(scrape_config(services_stack)))
    promtool(prometheus_tools, "check", "config", str(config), cwd=work)
    port = free_port()
    log = (work / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            str(prometheus_tools / "usr" / "bin" / "prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (work / "prometheus.log").read_text()[-3000:]
            try:
                if httpx.get(url + "/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "Prometheus not ready in 30 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    response = httpx.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return body["data"]["result"]  # type: ignore[no-any-return]


def value(prometheus: str, expr: str) -> float:
    result = query(prometheus, expr)
    assert len(result) == 1, f"{expr}: {result}"
    return float(result[0]["value"][1])


async def eventually(check: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.5)


# The first test also starts the system (five processes) and Prometheus.
@pytest.mark.timeout(300)
async def test_prometheus_sees_every_service_up_and_the_key_series_after_an_order(
    prometheus: str, services_stack: Stack
) -> None:
    def all_up() -> None:
        targets = httpx.get(prometheus + "/api/v1/targets", timeout=10).json()["data"]
        health = {t["labels"]["job"]: t["health"] for t in targets["activeTargets"]}
        assert health == dict.fromkeys(SERVICES, "up"), health

    await eventually(all_up)
    for service in SERVICES:
        assert value(prometheus, f'up{{job="{service}"}}') == 1.0

    student = Student(services_stack)
    for text in SEED:
        await student.say(text)
    assert "ORD-" in (await student.received())[-1]

    def key_series() -> None:
        accepted = 'tutordesk_gateway_webhook_requests_total{job="gateway",outcome="accepted"}'
        assert value(prometheus, f"sum({accepted})") >= len(SEED)
        assert value(prometheus, 'sum(tutordesk_notifier_sends_total{outcome="sent"})') >= len(SEED)
        assert value(prometheus, "sum(tutordesk_conversation_orders_placed_total)") >= 1
        handled = (
            'tutordesk_message_handling_seconds_count{job="conversation",queue="conversation"}'
        )
        assert value(prometheus, f"sum({handled})") >= len(SEED)
        assert value(prometheus, 'sum(tutordesk_messages_handled_total{service="payments"})') >= 1
        # The services with an outbox report its age (0 when it is empty).
        for service in ("conversation", "payments"):
            age = f'tutordesk_outbox_oldest_age_seconds{{job="{service}"}}'
            assert 0 <= value(prometheus, age) < 60
        # One replica each: active on the student's partition, the only one with traffic,
        # and on no more than the partitions there are.
        for service in ("conversation", "notifier"):
            active = f'tutordesk_partitions_active{{job="{service}",queue="{service}"}}'
            assert 1 <= value(prometheus, active) <= 8
        assert all(
            s["value"][1] == "0" for s in query(prometheus, "tutordesk_partition_count_mismatch")
        )

    await eventually(key_series)

    def key_metrics() -> None:
        # The dashboard's key-metric stats, as Grafana would ask for them.
        assert value(prometheus, _panel_expr("Message send success rate")) == 1.0
        assert value(prometheus, _panel_expr("Webhook requests")) > 0
        assert 0 < value(prometheus, _panel_expr("Queue processing time (p95)")) < 10
        assert value(prometheus, _panel_expr("Error rate")) == 0.0

    await eventually(key_metrics)

    def partition_panel() -> None:
        # conversation's partition panel, as Grafana asks for it: one line per replica.
        active = next(
            expr
            for title, expr in dashboard_queries()
            if title == "Active partitions and handovers"
            and expr.startswith(
                'sum by (instance) (tutordesk_partitions_active{service="conversation"'
            )
        )
        (line,) = query(prometheus, _grafana_vars(active))
        assert float(line["value"][1]) >= 1

    await eventually(partition_panel)


async def test_every_dashboard_query_and_alert_rule_runs_on_the_real_prometheus(
    prometheus: str, services_stack: Stack
) -> None:
    for title, expr in dashboard_queries():
        assert isinstance(query(prometheus, _grafana_vars(expr)), list), title

    def rules_evaluated() -> None:
        groups = httpx.get(prometheus + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) == len(alert_rules())
        for rule in rules:
            assert rule["health"] == "ok", rule
        firing = {rule["name"] for rule in rules if rule["state"] != "inactive"}
        assert "TutordeskServiceDown" not in firing
        assert "TutordeskServiceAbsent" not in firing
        assert "TutordeskPartitionCountMismatch" not in firing

    await eventually(rules_evaluated)


def _grafana_vars(expr: str) -> str:
    return expr.replace("$__rate_interval", "1m").replace("$__range", "5m")


def _panel_expr(title: str) -> str:
    return _grafana_vars(next(expr for t, expr in dashboard_queries() if t == title))
