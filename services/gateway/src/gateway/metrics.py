"""The gateway's own metrics: what came in, from whom, and what became of it."""

from prometheus_client import Counter, Histogram

from shared.metrics import LATENCY_BUCKETS

WEBHOOK_REQUESTS = Counter(
    "tutordesk_gateway_webhook_requests_total",
    "Webhook requests by provider, route and outcome.",
    ["provider", "route", "outcome"],
)
SIGNATURE_FAILURES = Counter(
    "tutordesk_gateway_signature_failures_total",
    "Webhook requests refused for a missing or wrong signature.",
    ["provider"],
)
BROKER_UNAVAILABLE = Counter(
    "tutordesk_gateway_broker_unavailable_total",
    "Webhook requests answered 503 because the broker did not confirm.",
    ["provider"],
)
PUBLISH_SECONDS = Histogram(
    "tutordesk_gateway_publish_seconds",
    "Time from publishing a webhook's event to the broker's confirm.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
