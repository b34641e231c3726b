"""A short run of bench/soak.py on the cluster stack: 60 mixed jobs (some fail, some are cancelled)
through 4 faults of 4 different kinds, MCP outages scaled down to 0.5-7.5 s. Nothing may be lost,
duplicated or stuck, and no SSE history may have a gap or a repeat."""

from __future__ import annotations

from pathlib import Path

from bench.soak import soak
from devstack import Stack


def test_a_short_soak_loses_duplicates_and_strands_nothing(cluster: Stack, tmp_path: Path) -> None:
    report = soak(cluster, jobs=60, faults=4, seed=7, scale=0.05, settle_s=180, folder=tmp_path)
    print(report.text())
    assert len(report.faults) == 4, report.text()
    assert report.tally.submitted == 60 and report.tally.sound, report.text()
    assert report.tally.succeeded > 0 and report.tally.failed["E205"] > 0, report.text()
