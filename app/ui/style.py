"""Colours and small look-and-feel helpers shared by the widgets."""

from __future__ import annotations

NETWORK_COLOURS = {
    "mastodon": "#6364FF",
    "bluesky": "#1185FE",
    "x": "#111111",
    "facebook": "#0866FF",
}
NETWORK_SHORT = {"mastodon": "M", "bluesky": "B", "x": "X", "facebook": "f"}
STATUS_COLOURS = {
    "new": "#C2410C",
    "open": "#B45309",
    "waiting": "#2563EB",
    "resolved": "#15803D",
    "left_alone": "#6B7280",
    "escalated": "#7C3AED",
}
STANCE_LABELS = {
    "supporter": "Supporter",
    "neutral": "Neutral",
    "opponent": "Opponent",
    "unknown": "Unknown",
}


def followers_text(count: int | None) -> str:
    if count is None:
        return ""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M followers"
    if count >= 10_000:
        return f"{count // 1000}k followers"
    if count >= 1000:
        return f"{count / 1000:.1f}k followers"
    return f"{count} followers"
