"""The flood limit's token bucket, pure: bursts, refill, one polite reply per flood, and
properties over any pace of messages."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from conversation.flood import Bucket, FloodLimit, Verdict, take
from conversation.settings import ConversationSettings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DEFAULT = FloodLimit(burst=10, refill_per_second=1.0)
ANSWER, WARN, IGNORE = Verdict.ANSWER, Verdict.WARN, Verdict.IGNORE


def run(limit: FloodLimit, times: list[datetime]) -> list[Verdict]:
    bucket: Bucket | None = None
    verdicts = []
    for at in times:
        bucket, verdict = take(bucket, limit, at)
        verdicts.append(verdict)
    return verdicts


def when(verdict: Verdict, limit: FloodLimit, times: list[datetime]) -> list[datetime]:
    """The times of the messages that got ``verdict``."""
    return [t for t, v in zip(times, run(limit, times), strict=True) if v is verdict]


def seconds(*offsets: float) -> list[datetime]:
    return [NOW + timedelta(seconds=s) for s in offsets]


def test_a_new_number_may_send_a_burst_then_is_told_once_and_then_ignored() -> None:
    verdicts = run(DEFAULT, seconds(*[0] * 30))
    assert verdicts == [ANSWER] * 10 + [WARN] + [IGNORE] * 19


def test_one_message_a_second_comes_back_but_the_flood_is_not_told_again() -> None:
    verdicts = run(DEFAULT, seconds(*[0] * 11, 0.5, 1.0, 1.0, 2.5))
    assert verdicts[10:] == [WARN, IGNORE, ANSWER, IGNORE, ANSWER]


def test_once_the_bucket_is_full_again_the_flood_is_over_and_a_new_one_is_told() -> None:
    verdicts = run(DEFAULT, seconds(*[0] * 11, *[10] * 11))
    assert verdicts[10] is WARN
    assert verdicts[11:] == [ANSWER] * 10 + [WARN]


def test_the_flood_lasts_while_the_bucket_is_not_yet_full() -> None:
    verdicts = run(DEFAULT, seconds(*[0] * 11, *[9.5] * 10))
    assert verdicts[11:] == [ANSWER] * 9 + [IGNORE]


def test_a_message_dated_before_the_last_adds_nothing_and_moves_no_time_back() -> None:
    bucket, _ = take(None, DEFAULT, NOW + timedelta(seconds=5))
    earlier, verdict = take(bucket, DEFAULT, NOW)
    assert verdict is ANSWER
    assert earlier == Bucket(tokens=8.0, at=NOW + timedelta(seconds=5))


def test_the_refill_rate_and_burst_come_from_the_limit() -> None:
    slow = FloodLimit(burst=2, refill_per_second=0.25)
    assert run(slow, seconds(0, 0, 0, 3.9, 4.0, 4.0)) == [
        ANSWER,
        ANSWER,
        WARN,
        IGNORE,
        ANSWER,
        IGNORE,
    ]


@pytest.mark.parametrize(("burst", "refill"), [(0, 1.0), (10, 0.0), (10, -1.0)])
def test_a_limit_needs_a_burst_and_a_positive_refill(burst: int, refill: float) -> None:
    with pytest.raises(ValueError, match="flood limit"):
        FloodLimit(burst=burst, refill_per_second=refill)


def test_the_limit_comes_from_flood_burst_and_flood_refill_per_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLOOD_BURST", raising=False)
    monkeypatch.delenv("FLOOD_REFILL_PER_SECOND", raising=False)
    defaults = ConversationSettings()
    assert (defaults.flood_burst, defaults.flood_refill_per_second) == (10, 1.0)
    monkeypatch.setenv("FLOOD_BURST", "3")
    monkeypatch.setenv("FLOOD_REFILL_PER_SECOND", "0.5")
    configured = ConversationSettings()
    assert (configured.flood_burst, configured.flood_refill_per_second) == (3, 0.5)
    monkeypatch.setenv("FLOOD_BURST", "0")
    with pytest.raises(ValidationError, match="flood_burst"):
        ConversationSettings()


limits = st.builds(
    FloodLimit,
    burst=st.integers(min_value=1, max_value=50),
    refill_per_second=st.floats(min_value=0.01, max_value=100, allow_nan=False),
)
# Gaps in microseconds, the resolution of the timestamps the bucket is kept with.
gaps = st.lists(st.integers(min_value=0, max_value=5_000_000), max_size=120)


def at_gaps(steps: list[int]) -> list[datetime]:
    times, at = [], NOW
    for step in steps:
        at += timedelta(microseconds=step)
        times.append(at)
    return times


@given(limits, gaps)
def test_no_window_answers_more_than_the_burst_plus_its_refill(
    limit: FloodLimit, steps: list[int]
) -> None:
    answered = when(ANSWER, limit, at_gaps(steps))
    for i, start in enumerate(answered):
        for j in range(i, len(answered)):
            span = (answered[j] - start).total_seconds()
            assert j - i + 1 <= limit.burst + span * limit.refill_per_second + 1e-6


@given(limits, st.lists(st.integers(min_value=0, max_value=3_000_000), max_size=60))
def test_a_number_writing_no_faster_than_the_refill_is_always_answered(
    limit: FloodLimit, extra: list[int]
) -> None:
    interval = math.ceil(1_000_000 / limit.refill_per_second)
    times = at_gaps([interval + e for e in extra])
    assert set(run(limit, times)) <= {ANSWER}


@given(limits, gaps)
def test_two_polite_replies_are_at_least_a_refill_of_the_bucket_apart(
    limit: FloodLimit, steps: list[int]
) -> None:
    told = when(WARN, limit, at_gaps(steps))
    least = (limit.burst - 1) / limit.refill_per_second
    for earlier, later in itertools.pairwise(told):
        assert (later - earlier).total_seconds() >= least - 1e-6


@given(limits, st.lists(st.integers(min_value=-3_000_000, max_value=3_000_000), max_size=120))
def test_the_first_refusal_is_told_and_tokens_stay_within_the_bucket(
    limit: FloodLimit, steps: list[int]
) -> None:
    bucket: Bucket | None = None
    verdicts = []
    for at in at_gaps(steps):
        bucket, verdict = take(bucket, limit, at)
        verdicts.append(verdict)
        assert 0 <= bucket.tokens <= limit.burst
    refused = [v for v in verdicts if v is not ANSWER]
    assert refused[:1] in ([], [WARN])
