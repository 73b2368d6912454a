"""The payments service's own metrics; labels are statuses, currencies and outcomes only."""

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import LATENCY_BUCKETS

PAYMENTS = Counter(
    "tutordesk_payments_total",
    "Payments reaching a status (pending, succeeded, failed, abandoned).",
    ["status"],
)
AMOUNT_MINOR = Counter(
    "tutordesk_payments_amount_minor_total",
    "Money counted as paid, in the currency's smallest unit.",
    ["currency"],
)
PAYSTACK_SECONDS = Histogram(
    "tutordesk_payments_paystack_seconds",
    "Time of one call to Paystack's API, retries included.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
PAYSTACK_ERRORS = Counter(
    "tutordesk_payments_paystack_errors_total",
    "Paystack calls that failed, by operation and kind (retried, unavailable, refused).",
    ["operation", "kind"],
)
VERIFICATION_FAILURES = Counter(
    "tutordesk_payments_verification_failures_total",
    "Paystack events not counted, by reason (unknown_reference, amount_mismatch, ...).",
    ["reason"],
)
RECONCILIATIONS = Counter(
    "tutordesk_payments_reconciliations_total",
    "Pending payments checked by polling, by outcome.",
    ["outcome"],
)
ACTIVE_SUBSCRIPTIONS = Gauge("tutordesk_payments_active_subscriptions", "Subscriptions active now.")
SUBSCRIPTION_EVENTS = Counter(
    "tutordesk_payments_subscription_events_total",
    "Subscriptions started, extended, expired and reminded.",
    ["event"],
)
