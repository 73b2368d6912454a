"""The pure parts of payments: what counts as paid, how a plan moves a subscription, when
a reminder is due, references and placeholder emails."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from payments.references import new_payment_reference, placeholder_email
from payments.subscription_terms import PlanTerms, Term, after_payment, renewal_days_left
from payments.verification import Outcome, VerifiedTransaction, judge
from shared.paystack_signature import paystack_signature, signature_is_valid

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MONTHLY = PlanTerms("monthly", "Monthly", 30, None)
STARTER = PlanTerms("starter", "Starter", 30, 10)


def verdict(status: str, amount: int = 500000, currency: str = "NGN", age_hours: float = 0):
    return judge(
        reference="PAY-A",
        amount_minor=500000,
        currency="NGN",
        verified=VerifiedTransaction("PAY-A", status, amount, currency),
        age=timedelta(hours=age_hours),
        abandon_after=timedelta(hours=24),
    )


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    currency=st.sampled_from(["NGN", "GHS", "USD"]),
    status=st.sampled_from(["success", "failed", "abandoned", "pending", "reversed"]),
)
def test_only_success_with_the_exact_amount_and_currency_counts_as_paid(
    amount: int, currency: str, status: str
) -> None:
    result = verdict(status, amount, currency)
    paid = status == "success" and amount == 500000 and currency == "NGN"
    assert (result.outcome is Outcome.PAID) == paid


def test_success_for_another_amount_or_currency_is_a_mismatch_not_a_payment() -> None:
    assert verdict("success", 499999).reason == "amount_mismatch"
    assert verdict("success", 5000).outcome is Outcome.MISMATCH
    assert verdict("success", currency="USD").reason == "currency_mismatch"


def test_declined_at_once_but_unfinished_only_after_the_abandon_time() -> None:
    assert verdict("failed").outcome is Outcome.DECLINED
    assert verdict("abandoned", age_hours=1).outcome is Outcome.WAITING
    assert verdict("ongoing", age_hours=23.9).outcome is Outcome.WAITING
    assert verdict("abandoned", age_hours=24).outcome is Outcome.ABANDONED


def test_first_plan_starts_now_and_runs_its_duration() -> None:
    result = after_payment(None, STARTER, NOW)
    assert result.extended is False
    assert (result.term.starts_at, result.term.ends_at) == (NOW, NOW + timedelta(days=30))
    assert result.term.homework_credits == 10


def test_plan_paid_while_active_extends_from_the_current_end_and_adds_credits() -> None:
    current = Term(NOW - timedelta(days=20), NOW + timedelta(days=10), 4)
    result = after_payment(current, STARTER, NOW)
    assert result.extended is True
    assert result.term.starts_at == current.starts_at
    assert result.term.ends_at == NOW + timedelta(days=40)
    assert result.term.homework_credits == 14
    assert after_payment(current, MONTHLY, NOW).term.homework_credits is None


def test_plan_paid_after_the_end_starts_again_from_now() -> None:
    ended = Term(NOW - timedelta(days=40), NOW - timedelta(days=10), 0)
    result = after_payment(ended, MONTHLY, NOW)
    assert result.extended is False
    assert result.term.ends_at == NOW + timedelta(days=30)
    expired = Term(NOW - timedelta(days=5), NOW + timedelta(days=5), None, active=False)
    assert after_payment(expired, MONTHLY, NOW).extended is False


def test_reminder_is_due_once_per_end_within_the_set_days() -> None:
    end = NOW + timedelta(days=2, hours=3)
    assert renewal_days_left(end, None, NOW, 3) == 3
    assert renewal_days_left(end, end, NOW, 3) is None
    assert renewal_days_left(NOW + timedelta(days=4), None, NOW, 3) is None
    assert renewal_days_left(NOW - timedelta(seconds=1), None, NOW, 3) is None
    assert renewal_days_left(NOW + timedelta(hours=1), None, NOW, 3) == 1


def test_references_are_unique_and_placeholder_email_is_stable_digits() -> None:
    references = {new_payment_reference() for _ in range(2000)}
    assert len(references) == 2000
    assert all(re.fullmatch(r"PAY-[A-Z2-9]{12}", r) for r in references)
    assert placeholder_email("+234 800 000 0001", "pay.example.com") == (
        "2348000000001@pay.example.com"
    )


@given(body=st.binary(max_size=2000), other=st.binary(max_size=2000))
def test_signature_matches_only_its_own_body_and_key(body: bytes, other: bytes) -> None:
    signature = paystack_signature("sk_test_a", body)
    assert len(signature) == 128
    assert signature_is_valid("sk_test_a", body, signature)
    assert signature_is_valid("sk_test_a", body, signature.upper())
    assert not signature_is_valid("sk_test_b", body, signature)
    assert signature_is_valid("sk_test_a", other, signature) == (other == body)
    assert not signature_is_valid("sk_test_a", body, "")
