"""The app's vocabularies (re-exported from storage, where the values are stored)."""

from app.storage.vocab import Bucket, CaseStatus, EventKind, Network, ReplyState, Stance

__all__ = ["Bucket", "CaseStatus", "EventKind", "Network", "ReplyState", "Stance"]
