"""Reading the services' Prometheus endpoints the way Prometheus would."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def metric(urls: list[str], name: str, **labels: str) -> float:
    """A counter or gauge summed over the ``/metrics`` of ``urls``, for samples matching ``labels``."""
    total = 0.0
    for url in urls:
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=5).text):
            total += sum(
                s.value
                for s in family.samples
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
            )
    return total
