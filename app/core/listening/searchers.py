"""Which search runs on a client: chosen by its network, the module imported only then."""

from __future__ import annotations

from app.core.listening.searches import Searcher
from app.core.networks.base import NetworkClient
from app.core.vocab import Network


def searcher_for(client: NetworkClient) -> Searcher | None:
    """The search for this client's network, or None when it has none (Facebook, a stub)."""
    if client.network is Network.MASTODON:
        from app.core.listening.mastodon_search import MastodonSearch
        from app.core.networks.mastodon import MastodonClient

        return MastodonSearch(client) if isinstance(client, MastodonClient) else None
    if client.network is Network.BLUESKY:
        from app.core.listening.bluesky_search import BlueskySearch
        from app.core.networks.bluesky import BlueskyClient

        return BlueskySearch(client) if isinstance(client, BlueskyClient) else None
    if client.network is Network.X:
        from app.core.listening.x_search import XSearch
        from app.core.networks.x import XClient

        return XSearch(client) if isinstance(client, XClient) else None
    return None
