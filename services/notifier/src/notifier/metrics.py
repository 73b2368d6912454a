"""The notifier's own metrics; labels are channels, outcomes and states only."""

from prometheus_client import Counter, Histogram

from shared.metrics import LATENCY_BUCKETS

SENDS = Counter(
    "tutordesk_notifier_sends_total",
    "Provider sends by channel and outcome: sent, failed (refused or given up), retried "
    "(a transient error retried within one handling), deferred (left to the broker's retry).",
    ["channel", "outcome"],
)
SEND_SECONDS = Histogram(
    "tutordesk_notifier_send_seconds",
    "Time for one message to be accepted by the provider, retries included.",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
DELIVERY_STATUSES = Counter(
    "tutordesk_notifier_delivery_statuses_total",
    "Status callbacks by reported state.",
    ["channel", "status"],
)
TEMPLATE_FALLBACKS = Counter(
    "tutordesk_notifier_template_fallbacks_total",
    "Messages sent as an approved template because the 24-hour window was closed.",
    ["channel", "kind"],
)
