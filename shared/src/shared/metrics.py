"""Prometheus metrics that every service shares; labels stay bounded (no numbers, no text)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

MESSAGES_HANDLED = Counter(
    "tutordesk_messages_handled_total",
    "Messages a consumer finished with, by outcome (ok, retried, dead_lettered).",
    ["service", "queue", "outcome"],
)
HANDLING_SECONDS = Histogram(
    "tutordesk_message_handling_seconds",
    "Time a consumer spent on one message.",
    ["service", "queue"],
    buckets=LATENCY_BUCKETS,
)
REDELIVERIES = Counter(
    "tutordesk_message_redeliveries_total",
    "Messages the broker delivered again (after a crash or a retry).",
    ["service", "queue"],
)
IN_FLIGHT = Gauge(
    "tutordesk_messages_in_flight", "Messages being handled now.", ["service", "queue"]
)
EVENTS_PUBLISHED = Counter(
    "tutordesk_events_published_total", "Events the broker confirmed.", ["service", "type"]
)
PUBLISH_SECONDS = Histogram(
    "tutordesk_publish_seconds",
    "Time from publish to the broker's confirm.",
    ["service"],
    buckets=LATENCY_BUCKETS,
)
PUBLISH_FAILURES = Counter(
    "tutordesk_publish_failures_total", "Publishes the broker did not confirm.", ["service"]
)
DB_TRANSACTIONS = Counter(
    "tutordesk_db_transactions_total",
    "Database transactions ended, by outcome (commit, rollback); a statement run on its own "
    "counts as one.",
    ["schema", "outcome"],
)
DB_STATEMENTS = Counter(
    "tutordesk_db_statements_total", "Statements sent to the database.", ["schema"]
)
OUTBOX_BACKLOG = Gauge("tutordesk_outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "tutordesk_outbox_oldest_age_seconds",
    "Age of the oldest outbox row not yet published.",
    ["service"],
)
DUPLICATES_DROPPED = Counter(
    "tutordesk_inbox_duplicates_total",
    "Messages dropped because they had been handled already.",
    ["service", "queue"],
)

PARTITIONS_ACTIVE = Gauge(
    "tutordesk_partitions_active",
    "Partitions of a queue this replica is the active consumer of.",
    ["service", "queue"],
)
PARTITION_HANDOVERS = Counter(
    "tutordesk_partition_handovers_total",
    "Partitions this replica handed over to another while rebalancing.",
    ["service", "queue"],
)
PARTITION_MISMATCH = Gauge(
    "tutordesk_partition_count_mismatch",
    "1 when another replica announced a different partition count for the queue.",
    ["service", "queue"],
)


def render_latest() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
