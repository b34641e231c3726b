"""Sliding-window rate limits, pure: the policy, the decision, the response headers.

The Redis adapter makes the same decision in one Lua script; the in-memory fallback calls
``slide`` with an injected clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    endpoint: str
    limit: int  # requests accepted per window
    window_s: int

    @classmethod
    def parse(cls, endpoint: str, spec: str) -> Policy:
        """``"30/60"``: 30 requests per 60 seconds."""
        limit, _, window = spec.partition("/")
        policy = cls(endpoint, int(limit), int(window or 60))
        if policy.limit < 1 or policy.window_s < 1:
            raise ValueError(f"rate limit {spec!r} for {endpoint}: both numbers must be positive")
        return policy


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_s: float  # 0 when allowed: else until the oldest request in the window leaves it


def slide(stamps: list[float], now: float, policy: Policy) -> tuple[Decision, list[float]]:
    """Decide one request given the times of the accepted ones; returns the new list of times."""
    live = [t for t in stamps if t > now - policy.window_s]
    if len(live) < policy.limit:
        live.append(now)
        return Decision(True, policy.limit - len(live), 0.0), live
    return Decision(False, 0, max(0.0, live[0] + policy.window_s - now)), live


def headers(policy: Policy, decision: Decision) -> dict[str, str]:
    """``RateLimit``/``RateLimit-Policy`` (draft-ietf-httpapi-ratelimit-headers), plus ``Retry-After``
    when refused. Seconds are rounded up, never to 0 while refused."""
    reset = max(1, math.ceil(decision.retry_after_s)) if not decision.allowed else policy.window_s
    out = {
        "RateLimit-Policy": f'"{policy.endpoint}";q={policy.limit};w={policy.window_s}',
        "RateLimit": f'"{policy.endpoint}";r={decision.remaining};t={reset}',
    }
    if not decision.allowed:
        out["Retry-After"] = str(reset)
    return out
