"""The conversation service's own metrics; labels are flow and state names only."""

from prometheus_client import Counter

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
