"""Listening beyond @-mentions: saved searches, web feeds, and one person across networks."""
