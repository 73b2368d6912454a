"""Scale-out: 3 conversation and 2 notifier replicas, 200 numbers writing at once, each
number's replies at the sandbox and its final orders and payments the same as a single
replica of each gives."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from stack.testing import Stack, base_env, start_stack, stop_stack
from tests.ops.conftest import fresh_database, fresh_vhost
from tests.resilience.load import (
    Load,
    Pacing,
    conversations,
    distinct_scripts,
    expected_like,
    final_states,
    phone_numbers,
    tally,
)

NUMBERS = 200
PARTITIONS = "6"  # even shares for 3 conversation and 2 notifier replicas


def handled(url: str, queue: str) -> float:
    """Messages a replica finished with from ``queue``, whatever their outcome."""
    total = 0.0
    for line in httpx.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith("tutordesk_messages_handled_total{") and f'queue="{queue}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def stack_on(
    rabbitmq_url: str, database_url: str, log_dir: Path, replicas: dict[str, int]
) -> Stack:
    from shared.testing import free_port

    ports = {"gateway": free_port(), "sandbox": free_port()}
    env = base_env(ports) | {
        "RABBITMQ_URL": rabbitmq_url,
        "DATABASE_URL": database_url,
        "BROKER_PARTITIONS": PARTITIONS,
    }
    return start_stack(env, log_dir, replicas=replicas, ports=ports)


@pytest.mark.timeout(900)
async def test_200_numbers_on_three_conversation_and_two_notifier_replicas_match_one_replica(
    rabbitmq_url: str, database_url: str, tmp_path: Path
) -> None:
    seed = random.randrange(1000, 9000)
    plan = conversations(NUMBERS, seed=seed)
    reference_plan = distinct_scripts(plan, phone_numbers(NUMBERS, seed=seed + 1))

    # The reference: one replica of each service, one number per distinct script.
    with fresh_vhost(rabbitmq_url) as vhost, fresh_database(database_url) as database:
        stack = stack_on(vhost, database, tmp_path / "reference", {})
        try:
            reference = await Load(stack, reference_plan, pacing=Pacing.ACCEPTED).run()
            reference_states = await final_states(stack, [c.phone for c in reference_plan])
        finally:
            stop_stack(stack)
    assert not (reference.refused or reference.unanswered), reference
    # The reference itself must be complete: every number's order placed and linked.
    assert all(len(reference.replies[c.phone]) == c.replies for c in reference_plan)

    # Every number writes its messages as fast as the gateway takes them, all at once.
    with fresh_vhost(rabbitmq_url) as vhost, fresh_database(database_url) as database:
        stack = stack_on(vhost, database, tmp_path / "scaled", {"conversation": 3, "notifier": 2})
        try:
            outcome = await Load(
                stack, plan, pacing=Pacing.ACCEPTED, reply_within=420, settle=3
            ).run()
            states = await final_states(stack, [c.phone for c in plan])
            work = {
                name: handled(url, "conversation" if "conversation" in name else "notifier")
                for name, url in stack.urls.items()
                if name.startswith(("conversation-", "notifier-"))
            }
        finally:
            stop_stack(stack)

    assert not outcome.refused, outcome.refused[:5]
    result = tally(expected_like(reference, reference_plan, plan), outcome.replies)
    assert result.clean, str(result)
    assert result.received == result.expected == sum(c.replies for c in plan)
    by_script = {(c.script, c.channel): reference_states[c.phone] for c in reference_plan}
    differing = [c.phone for c in plan if states[c.phone] != by_script[(c.script, c.channel)]]
    assert not differing, f"{len(differing)} numbers end differently, e.g. {differing[:3]}"
    # The work was shared: every replica handled messages.
    assert len(work) == 5 and all(count > 0 for count in work.values()), work
    print(f"\nscale-out: {result}; {outcome.seconds:.0f} s; handled per replica {work}")
