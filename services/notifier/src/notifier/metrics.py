"""The notifier's own metrics; labels are channels, outcomes and states only."""

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import LATENCY_BUCKETS

SENDS = Counter(
    "tutordesk_notifier_sends_total",
    "Provider sends by channel and outcome: sent, failed (refused or given up), retried "
    "(a transient error retried within one handling), deferred (left to the broker's retry), "
    "held (outside the 24-hour window, no template), suppressed (opted out).",
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
HELD = Counter(
    "tutordesk_notifier_held_total",
    "Messages not sent because the 24-hour window was closed and their kind has no template.",
    ["channel", "kind"],
)
SUPPRESSED = Counter(
    "tutordesk_notifier_suppressed_total",
    "Messages not sent because the number opted out.",
    ["channel"],
)
FINAL_STATUSES = Counter(
    "tutordesk_notifier_delivery_outcomes_total",
    "Messages reaching a delivery state (delivered, read, failed, undelivered), each once.",
    ["channel", "status"],
)
SEND_SUCCESS_RATIO = Gauge(
    "tutordesk_notifier_send_success_ratio",
    "Provider sends accepted over sends finished (accepted or failed), since start.",
    ["channel"],
)
MARK_READ = Counter(
    "tutordesk_notifier_mark_read_total", "Inbound messages marked read, by outcome.", ["outcome"]
)
MEDIA_FETCHES = Counter(
    "tutordesk_notifier_media_fetches_total",
    "Inbound media fetches by channel and outcome (stored or the rejection).",
    ["channel", "outcome"],
)
RECORD_RETRIES = Counter(
    "tutordesk_notifier_record_retries_total",
    "Waits for the database to record a send the provider had accepted already.",
)
