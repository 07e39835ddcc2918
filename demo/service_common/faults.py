"""Injected faults (latency, random failures, down) and request counters, per app."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Faults:
    latency_ms: int = 0
    failure_rate: float = 0.0
    down: bool = False
    # an upload fails (503) after this many of its documents were stored; None: never
    upload_fail_after: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.update(latency_ms=self.latency_ms, failure_rate=self.failure_rate, down=self.down)

    def update(
        self,
        *,
        latency_ms: int | None = None,
        failure_rate: float | None = None,
        down: bool | None = None,
        upload_fail_after: int | None = None,
        clear_upload_fault: bool = False,
    ) -> None:
        if latency_ms is not None:
            if latency_ms < 0:
                raise ValueError("latency_ms tidak boleh negatif")
            self.latency_ms = latency_ms
        if failure_rate is not None:
            if not 0.0 <= failure_rate <= 1.0:
                raise ValueError("failure_rate harus antara 0 dan 1")
            self.failure_rate = failure_rate
        if down is not None:
            self.down = down
        if upload_fail_after is not None:
            if upload_fail_after < 0:
                raise ValueError("upload_fail_after tidak boleh negatif")
            self.upload_fail_after = upload_fail_after
        elif clear_upload_fault:
            self.upload_fail_after = None

    def fails_now(self) -> bool:
        return self.failure_rate > 0 and self.rng.random() < self.failure_rate

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "failure_rate": self.failure_rate,
            "down": self.down,
            "upload_fail_after": self.upload_fail_after,
        }


_CONVERTER = re.compile(r":[a-z]+}")


def route_template(path: str) -> str:
    """`/api/v1/laporan/{no_tiket:path}` -> `/api/v1/laporan/{no_tiket}`."""
    return _CONVERTER.sub("}", path)


@dataclass(slots=True)
class RequestStats:
    counts: Counter[str] = field(default_factory=Counter)

    def count(self, method: str, template: str) -> None:
        self.counts[f"{method} {template}"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"requests": dict(self.counts)}
