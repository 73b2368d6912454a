"""What a turn asks the outside world to do, as plain data; handlers.py carries it out."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import MediaRef


@dataclass(frozen=True)
class ChangeContactPreference:
    opted_out: bool


@dataclass(frozen=True)
class SaveProfile:
    name: str
    level: str
    email: str


@dataclass(frozen=True)
class FetchMedia:
    """Ask the notifier to fetch and check a photo the user sent."""

    media: MediaRef


@dataclass(frozen=True)
class SubmitHomework:
    reference: str
    subject: str
    question: str
    note: str
    photo: MediaRef | None
    paid_with: str  # subscription | free_credit


@dataclass(frozen=True)
class RateHomework:
    reference: str
    rating: int


@dataclass(frozen=True)
class RequestPlanPayment:
    plan_code: str


@dataclass(frozen=True)
class RetryOrderPayment:
    """A new payment link for an order whose payment failed or was never made."""

    order_reference: str


@dataclass(frozen=True)
class OpenTicket:
    reference: str
    description: str


@dataclass(frozen=True)
class MessageAgent:
    """A student's line in an open ticket, for the agent on it."""

    ticket_reference: str
    text: str


@dataclass(frozen=True)
class CloseTicket:
    ticket_reference: str
    by: str  # student | agent


@dataclass(frozen=True)
class AcceptWork:
    reference: str


@dataclass(frozen=True)
class SendSolution:
    reference: str
    text: str
    photo: MediaRef | None = None


@dataclass(frozen=True)
class PickTicket:
    ticket_reference: str


@dataclass(frozen=True)
class MessageStudent:
    """An agent's line in a ticket they hold, for its student."""

    ticket_reference: str
    text: str


Effect = (
    ChangeContactPreference
    | SaveProfile
    | FetchMedia
    | SubmitHomework
    | RateHomework
    | RequestPlanPayment
    | RetryOrderPayment
    | OpenTicket
    | MessageAgent
    | CloseTicket
    | AcceptWork
    | SendSolution
    | PickTicket
    | MessageStudent
)
