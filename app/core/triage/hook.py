"""Triage at ingest: the ``IngestHook`` that scores and ranks what sync has just stored.

It runs inside the ingest transaction, so a batch of mentions, their sentiment, their cases'
priorities and the decisions recorded on them are stored together or not at all. All work is
batched (one VADER pass, a few set-sized queries and ``executemany`` writes per 400 cases).
"""

from __future__ import annotations

import logging
import time

from app.core.ingest import IngestResult
from app.core.triage.engine import Triage, TriageReport

log = logging.getLogger(__name__)


class TriageHook:
    """``Ingestor(hooks=[TriageHook(triage)])``; ``last_report`` says what the last run did."""

    def __init__(self, triage: Triage) -> None:
        self.triage = triage
        self.last_report = TriageReport()

    def after_ingest(self, result: IngestResult) -> None:
        if not result.mention_ids and not result.touched_cases:
            return
        started = time.perf_counter()
        scored = self.triage.score_mentions(result.mention_ids)
        report = self.triage.triage_cases(result.touched_cases)
        report.scored = scored
        self.last_report = report
        log.debug(
            "triage: %d mentions scored, %d cases ranked, %d decisions, %d left alone in %.3f s",
            scored,
            report.cases,
            report.decisions_recorded,
            report.left_alone,
            time.perf_counter() - started,
        )
