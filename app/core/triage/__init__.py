"""Triage: sentiment, office-hours clocks, priority and the ingest hook that applies the policy."""
