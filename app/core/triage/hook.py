"""Triage at ingest: the ``IngestHook`` that scores and ranks what sync has just stored.

It runs inside the ingest transaction, so a batch of mentions, their sentiment, their cases'
priorities and the decisions recorded on them are stored together. All work is batched (one
VADER pass, one facts statement and a few ``executemany`` writes per 400 cases). Sentiment is
scored before storing (``before_store``, where sync fetches: a worker thread, or for a long walk
a worker process, which gets ``worker_half``), so each mention is written once with its score
instead of written and then rewritten (~3.5 KB a row).

Triage must never stop sync from storing mentions: its work runs in a savepoint, and if it
fails (a bug, a damaged row) only triage's own writes are rolled back, the error is logged, and
the mentions stay stored untriaged until the next ``Triage.refresh``.
"""

from __future__ import annotations

import logging
import time

from app.core.ingest import IngestResult, PreparedBatch
from app.core.policy.engine import PolicyEngine
from app.core.triage.engine import Triage, TriageReport
from app.core.triage.sentiment import SentimentScorer
from app.storage.models import database

log = logging.getLogger(__name__)


class TriageHook:
    """``Ingestor(hooks=[TriageHook(triage)])``; ``last_report`` says what the last run did."""

    def __init__(self, triage: Triage) -> None:
        self.triage = triage
        self.last_report = TriageReport()
        self.failures = 0

    def before_store(self, batch: PreparedBatch) -> None:
        """The sentiment of each mention's cleaned text (what ``score_mentions`` reads back)."""
        texts = batch.texts()
        scores = self.triage.scorer.score_many([text for _, text in texts])
        batch.sentiment.update(zip([rid for rid, _ in texts], scores, strict=True))

    def worker_half(self) -> WorkerTriage | None:
        """``before_store`` for a sync worker process (picklable; it loads its own VADER and
        takes a copy of the policy), or None when this hook's scorer is not the standard one
        (then the walk stays here)."""
        if type(self.triage.scorer) is not SentimentScorer:
            return None
        return WorkerTriage(self.triage.engine)

    def learn(self, batch: PreparedBatch) -> None:
        """The policy's verdicts on each text that a worker process worked out (the text half
        of every decision): the policy then only adds the case's facts. Ignored when the
        policy changed since the worker copied it (another token)."""
        if not batch.verdicts:
            return
        engine = self.triage.engine
        for rid, text in batch.texts():
            bits = batch.verdicts.get(rid)
            if bits is not None and not engine.learn(text, bits, batch.verdict_token):
                return

    def after_ingest(self, result: IngestResult) -> None:
        if not result.mention_ids and not result.touched_cases:
            return
        started = time.perf_counter()
        try:
            with database.atomic():
                scored = len(result.mention_ids) - len(result.unscored_ids)
                scored += self.triage.score_mentions(result.unscored_ids)
                report = self.triage.triage_cases(result.touched_cases)
        except Exception:
            self.failures += 1
            log.exception(
                "triage failed for %d new mentions; they are stored and wait for the next refresh",
                len(result.mention_ids),
            )
            return
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


class WorkerTriage:
    """``TriageHook.before_store`` in a sync worker process: the same scorer with its own cache,
    and the policy's verdicts on each text (``PolicyEngine.text_verdicts``) for ``learn``."""

    def __init__(self, engine: PolicyEngine | None = None) -> None:
        self._engine = engine
        self._scorer: SentimentScorer | None = None

    def __getstate__(self) -> dict[str, object]:
        return {"engine": self._engine}  # the scorer (a lock, VADER) is built where it runs

    def __setstate__(self, state: dict[str, object]) -> None:
        engine = state.get("engine")
        self._engine = engine if isinstance(engine, PolicyEngine) else None
        self._scorer = None

    def warm(self) -> None:
        """Load VADER before the walk starts (~0.1 s), not on its first page."""
        self.scorer().score("warm")

    def scorer(self) -> SentimentScorer:
        if self._scorer is None:
            self._scorer = SentimentScorer()
        return self._scorer

    def before_store(self, batch: PreparedBatch) -> None:
        texts = batch.texts()
        scores = self.scorer().score_many([text for _, text in texts])
        batch.sentiment.update(zip([rid for rid, _ in texts], scores, strict=True))
        engine = self._engine
        if engine is not None:
            batch.verdicts.update((rid, engine.text_verdicts(text)) for rid, text in texts)
            batch.verdict_token = engine.text_token
