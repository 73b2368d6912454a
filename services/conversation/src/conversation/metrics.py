"""The conversation service's own metrics; labels are flow, state and status names only."""

from prometheus_client import Counter, Gauge, Histogram

FLOW_STARTS = Counter("tutordesk_conversation_flow_starts_total", "Flows begun.", ["flow"])
FLOW_COMPLETIONS = Counter(
    "tutordesk_conversation_flow_completions_total", "Flows finished.", ["flow"]
)
STATE_EXPIRIES = Counter(
    "tutordesk_conversation_state_expiries_total", "Conversations idle past the limit."
)
UNKNOWN_INPUTS = Counter(
    "tutordesk_conversation_unknown_inputs_total", "Messages not understood, by state.", ["state"]
)
ORDERS_PLACED = Counter("tutordesk_conversation_orders_placed_total", "Orders placed.")
HOMEWORK = Counter(
    "tutordesk_conversation_homework_total",
    "Homework reaching each status (submitted, assigned, waiting, accepted, solved, rated, "
    "reassigned).",
    ["status"],
)
ASSIGNMENT_WAIT = Histogram(
    "tutordesk_conversation_assignment_wait_seconds",
    "From offering homework to a tutor to the tutor accepting it.",
    buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200),
)
TICKETS_OPEN = Gauge("tutordesk_conversation_tickets_open", "Support tickets open.")
REASSIGNMENT_FAILURES = Counter(
    "tutordesk_conversation_reassignment_failures_total", "Reassignment passes that failed."
)
EVENTS_IGNORED = Counter(
    "tutordesk_conversation_events_ignored_total",
    "Events that no longer applied (e.g. a photo verdict for a flow already left).",
    ["type"],
)
FLOOD_REFUSED = Counter(
    "tutordesk_conversation_flood_refused_total",
    "Messages refused because their number wrote faster than the flood limit.",
)
