"""Writes the provisioned Grafana dashboard (dashboards/tutordesk.json) from the panels below.

Run `python deploy/grafana/build_dashboard.py` after editing; tests/ops checks the JSON in
the repository is what this prints, and runs every panel's query against a real Prometheus.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards" / "tutordesk.json"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
CONSUMERS = ("conversation", "payments", "notifier")
# Queues split into partitions (conversation.p0 ...), each with one active consumer.
PARTITIONED = ("conversation", "notifier")

# The ordering seed's key metrics, each as one PromQL expression.
SEND_SUCCESS_RATE = (
    'sum(rate(tutordesk_notifier_sends_total{outcome="sent"}[$__rate_interval]))'
    ' / sum(rate(tutordesk_notifier_sends_total{outcome=~"sent|failed"}[$__rate_interval]))'
)
WEBHOOK_REQUESTS = "sum(increase(tutordesk_gateway_webhook_requests_total[$__range]))"
QUEUE_P95 = (
    "histogram_quantile(0.95, sum by (le) "
    "(rate(tutordesk_message_handling_seconds_bucket[$__rate_interval])))"
)
# `or vector(0)`: no failure at all is a rate of 0, not "no data".
ERROR_RATE = (
    '(sum(rate(tutordesk_messages_handled_total{outcome!="ok"}[$__rate_interval])) or vector(0))'
    " / sum(rate(tutordesk_messages_handled_total[$__rate_interval]))"
)


def target(expr: str, legend: str = "") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": "A"}


def stat(title: str, expr: str, unit: str, description: str) -> dict[str, Any]:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(expr)],
        "fieldConfig": {"defaults": {"unit": unit, "decimals": 2}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"},
    }


def series(title: str, unit: str, *targets: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "targets": [
            {**target(expr, legend), "refId": chr(ord("A") + i)}
            for i, (expr, legend) in enumerate(targets)
        ],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
    }


def work_queue(service: str) -> str:
    """A selector for the service's work queue: its partitions where it has them."""
    if service in PARTITIONED:
        return f'queue=~"{service}\\\\.p[0-9]+"'
    return f'queue="{service}"'


def partition_panels(service: str) -> list[dict[str, Any]]:
    """Which replica works on how many partitions, and how often they change hands."""
    if service not in PARTITIONED:
        return []
    sel = f'service="{service}"'
    return [
        series(
            "Active partitions and handovers",
            "short",
            (f"sum by (instance) (tutordesk_partitions_active{{{sel}}})", "active {{instance}}"),
            (
                f"sum(rate(tutordesk_partition_handovers_total{{{sel}}}[$__rate_interval]))",
                "handovers/s",
            ),
            (f"max(tutordesk_partition_count_mismatch{{{sel}}})", "count mismatch"),
        ),
    ]


def consumer_panels(service: str) -> list[dict[str, Any]]:
    """What every consuming service shows: throughput, errors, time, backlog."""
    sel = f'service="{service}"'
    return [
        series(
            "Messages handled by outcome",
            "ops",
            (
                f"sum by (outcome) (rate(tutordesk_messages_handled_total{{{sel}}}"
                "[$__rate_interval]))",
                "{{outcome}}",
            ),
        ),
        series(
            "Queue processing time",
            "s",
            (
                "histogram_quantile(0.5, sum by (le) (rate("
                f"tutordesk_message_handling_seconds_bucket{{{sel}}}[$__rate_interval])))",
                "p50",
            ),
            (
                "histogram_quantile(0.95, sum by (le) (rate("
                f"tutordesk_message_handling_seconds_bucket{{{sel}}}[$__rate_interval])))",
                "p95",
            ),
        ),
        series(
            "Error rate (retried + dead-lettered)",
            "percentunit",
            (
                f'(sum(rate(tutordesk_messages_handled_total{{{sel},outcome!="ok"}}'
                "[$__rate_interval])) or vector(0)) / sum(rate(tutordesk_messages_handled_total"
                f"{{{sel}}}[$__rate_interval]))",
                "errors",
            ),
        ),
        series(
            "In flight, redeliveries, queue depth",
            "short",
            (f"sum(tutordesk_messages_in_flight{{{sel}}})", "in flight"),
            (
                f"sum(rate(tutordesk_message_redeliveries_total{{{sel}}}[$__rate_interval]))",
                "redeliveries/s",
            ),
            (f"sum(rabbitmq_detailed_queue_messages_ready{{{work_queue(service)}}})", "ready"),
            (f'sum(rabbitmq_detailed_queue_messages{{queue="{service}.dead"}})', "dead"),
        ),
        series(
            "Outbox backlog and oldest row",
            "short",
            (f"sum(tutordesk_outbox_backlog{{{sel}}})", "rows"),
            (f"max(tutordesk_outbox_oldest_age_seconds{{{sel}}})", "oldest (s)"),
        ),
    ]


def own_panels(service: str) -> list[dict[str, Any]]:
    if service == "conversation":
        return [
            series(
                "Flows started and completed",
                "ops",
                (
                    "sum by (flow) (rate(tutordesk_conversation_flow_starts_total"
                    "[$__rate_interval]))",
                    "start {{flow}}",
                ),
                (
                    "sum by (flow) (rate(tutordesk_conversation_flow_completions_total"
                    "[$__rate_interval]))",
                    "done {{flow}}",
                ),
            ),
            series(
                "Orders placed, unknown inputs, expiries",
                "short",
                (
                    "sum(increase(tutordesk_conversation_orders_placed_total[$__rate_interval]))",
                    "orders",
                ),
                (
                    "sum(increase(tutordesk_conversation_unknown_inputs_total[$__rate_interval]))",
                    "unknown inputs",
                ),
                (
                    "sum(increase(tutordesk_conversation_state_expiries_total[$__rate_interval]))",
                    "expiries",
                ),
            ),
        ]
    if service == "payments":
        # The payments service names its own counters; any tutordesk_payments_* counter
        # with a `status` label (payments by status) is drawn here.
        return [
            series(
                "Payments by status",
                "short",
                (
                    "sum by (status) (increase("
                    '{__name__=~"tutordesk_payments_.*_total", status!=""}[$__rate_interval]))',
                    "{{status}}",
                ),
            ),
        ]
    return [
        series(
            "Message send success rate",
            "percentunit",
            (SEND_SUCCESS_RATE, "sent / tried"),
        ),
        series(
            "Sends by outcome",
            "ops",
            (
                "sum by (channel, outcome) (rate(tutordesk_notifier_sends_total"
                "[$__rate_interval]))",
                "{{channel}} {{outcome}}",
            ),
        ),
        series(
            "Send latency",
            "s",
            (
                "histogram_quantile(0.95, sum by (le, channel) "
                "(rate(tutordesk_notifier_send_seconds_bucket[$__rate_interval])))",
                "p95 {{channel}}",
            ),
        ),
        series(
            "Delivery statuses",
            "ops",
            (
                "sum by (status) (rate(tutordesk_notifier_delivery_statuses_total"
                "[$__rate_interval]))",
                "{{status}}",
            ),
        ),
    ]


def gateway_panels() -> list[dict[str, Any]]:
    return [
        series(
            "Webhook requests by provider and outcome",
            "reqps",
            (
                "sum by (provider, outcome) (rate(tutordesk_gateway_webhook_requests_total"
                "[$__rate_interval]))",
                "{{provider}} {{outcome}}",
            ),
        ),
        series(
            "Signature failures and broker unavailable",
            "short",
            (
                "sum by (provider) (increase(tutordesk_gateway_signature_failures_total"
                "[$__rate_interval]))",
                "bad signature {{provider}}",
            ),
            (
                "sum by (provider) (increase(tutordesk_gateway_broker_unavailable_total"
                "[$__rate_interval]))",
                "broker unavailable {{provider}}",
            ),
        ),
        series(
            "Publish latency (to the broker's confirm)",
            "s",
            (
                "histogram_quantile(0.95, sum by (le) (rate("
                'tutordesk_publish_seconds_bucket{service="gateway"}[$__rate_interval])))',
                "p95",
            ),
        ),
    ]


def overview_panels() -> list[dict[str, Any]]:
    return [
        stat(
            "Message send success rate",
            SEND_SUCCESS_RATE,
            "percentunit",
            "Outbound messages the provider accepted, out of those tried (sent + failed).",
        ),
        stat(
            "Webhook requests",
            WEBHOOK_REQUESTS,
            "short",
            "Provider webhooks received by the gateway in the time range, any outcome.",
        ),
        stat(
            "Queue processing time (p95)",
            QUEUE_P95,
            "s",
            "95th percentile of the time a consumer spends on one message, all queues.",
        ),
        stat(
            "Error rate",
            ERROR_RATE,
            "percentunit",
            "Messages retried or dead-lettered, out of all handled, all queues.",
        ),
        stat(
            "Replicas up",
            'sum(up{job=~"gateway|conversation|payments|notifier"})',
            "short",
            "Service replicas Prometheus scrapes successfully.",
        ),
    ]


def layout(rows: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Rows one under another; panels of a row in a grid, stats 5 to a line, others 2."""
    panels: list[dict[str, Any]] = []
    y = 0
    next_id = 1
    for title, members in rows:
        panels.append(
            {
                "type": "row",
                "title": title,
                "id": next_id,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        per_line = 5 if all(p["type"] == "stat" for p in members) else 2
        width, height = (24 // per_line, 5) if per_line == 5 else (12, 8)
        for index, panel in enumerate(members):
            column, line = index % per_line, index // per_line
            panel = {
                **panel,
                "id": next_id,
                "gridPos": {"h": height, "w": width, "x": column * width, "y": y + line * height},
            }
            next_id += 1
            panels.append(panel)
        y += height * ((len(members) + per_line - 1) // per_line)
    return panels


def dashboard() -> dict[str, Any]:
    rows: list[tuple[str, list[dict[str, Any]]]] = [
        ("Key metrics", overview_panels()),
        ("gateway", gateway_panels()),
    ]
    for service in CONSUMERS:
        rows.append(
            (service, own_panels(service) + consumer_panels(service) + partition_panels(service))
        )
    return {
        "uid": "tutordesk",
        "title": "tutordesk",
        "description": "The WhatsApp desk: key metrics, then one row per service.",
        "tags": ["tutordesk"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": layout(rows),
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--print"]:
        sys.stdout.write(render())
    else:
        OUT.write_text(render(), encoding="utf-8")
