"""/health: each dependency a service needs, and whether it answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

Check = Callable[[], Awaitable[bool]]


@dataclass
class Health:
    service: str
    checks: dict[str, Check] = field(default_factory=dict)
    timeout: float = 2.0

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def report(self) -> tuple[bool, dict[str, object]]:
        async def run(check: Check) -> bool:
            try:
                return await asyncio.wait_for(check(), self.timeout)
            except Exception:
                return False

        results = await asyncio.gather(*(run(c) for c in self.checks.values()))
        states = {
            name: ("up" if ok else "down") for name, ok in zip(self.checks, results, strict=True)
        }
        healthy = all(results)
        return healthy, {
            "service": self.service,
            "status": "ok" if healthy else "unavailable",
            "dependencies": states,
        }


def database_check(engine: AsyncEngine) -> Check:
    async def check() -> bool:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    return check
