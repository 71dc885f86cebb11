"""Retries with exponential backoff and full jitter, for transient failures only (429, 5xx, timeouts)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def transient(exc: BaseException) -> bool:
    """Worth another try: rate limited, the server failed, or the connection/timeout broke."""
    import openai

    if isinstance(exc, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, TimeoutError)


def with_retries(
    call: Callable[[], T],
    attempts: int = 4,
    base_s: float = 0.5,
    cap_s: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> tuple[T, int]:
    """(the result, how many attempts it took). Non-transient errors propagate at once."""
    rng = rng or random.Random()
    for attempt in range(1, attempts + 1):
        try:
            return call(), attempt
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            sleep(rng.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1))))
    raise AssertionError("unreachable")
