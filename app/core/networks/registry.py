"""Which networks Kindly can connect, what a person enters for each, and how a client is built.

The accounts service and the UI read ``CredentialSpec`` (fields, labels, which are secret,
the default server) and build clients through ``factory_for``; client modules are imported
inside the factories so opening the accounts dialog does not load four HTTP clients.
A factory receives the stored secret and a sink: a client that renews its tokens (Bluesky's
refreshJwt rotation, X's single-use refresh tokens) hands the new secret to the sink, and the
accounts service writes it back to the keyring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from app.core.networks.base import NetworkClient
from app.core.vocab import Network

SecretSink = Callable[[dict[str, str]], None]

# A first sync brings in the most recent mentions, not years of history: an officer starting
# with Kindly needs this week's conversations, and a huge first import would take minutes.
FIRST_SYNC_BACKFILL = 400


@dataclass(frozen=True, slots=True)
class ClientParams:
    """The non-secret facts about an account that a client needs."""

    base_url: str
    handle: str  # as entered, or as verified; Facebook: the Page id
    remote_id: str = ""  # the account's id on the network, once verified


ClientFactory = Callable[[httpx.Client, ClientParams, Mapping[str, str], SecretSink], NetworkClient]


@dataclass(frozen=True, slots=True)
class CredentialField:
    key: str
    label: str
    secret: bool  # entered hidden, kept only in the keyring
    help: str = ""
    required: bool = True


@dataclass(frozen=True, slots=True)
class CredentialSpec:
    """What the user enters to connect one network, and what may be kept afterwards."""

    network: Network
    handle_label: str
    handle_help: str
    handle_required: bool
    default_base_url: str | None  # None: the user must say (Mastodon has no single server)
    base_url_help: str
    fields: tuple[CredentialField, ...]
    # Keys that may be written to the keyring. A client that trades what was entered for a
    # session (Bluesky: app password → JWTs) emits the session; the entered password is dropped.
    stored_keys: frozenset[str]
    must_store: frozenset[str]  # a stored secret without these cannot make a working client
    help: str = ""

    @property
    def secret_fields(self) -> tuple[CredentialField, ...]:
        return tuple(f for f in self.fields if f.secret)


@dataclass(frozen=True, slots=True)
class NetworkEntry:
    spec: CredentialSpec
    factory: ClientFactory = field(repr=False)


# -- factories (lazy imports: each client module loads only when used) -------------------------


def _mastodon(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    from app.core.networks.mastodon import MastodonClient

    return MastodonClient(
        http, params.base_url, secret["access_token"], backfill=FIRST_SYNC_BACKFILL
    )


def _bluesky(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    from app.core.networks.bluesky import BlueskyClient

    return BlueskyClient(
        http, params.base_url, params.handle, dict(secret), sink, backfill=FIRST_SYNC_BACKFILL
    )


def _x(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    from app.core.networks.x import XClient
    from app.core.networks.x_oauth import XOAuth

    current = dict(secret)
    refresh: Callable[[], str] | None = None
    if current.get("refresh_token") and current.get("client_id"):
        oauth = XOAuth(http, current["client_id"], base_url=params.base_url)

        def renew() -> str:
            """X refresh tokens are single-use: save the new pair before using it."""
            tokens = oauth.refresh(current["refresh_token"])
            current["access_token"] = tokens.access_token
            if tokens.refresh_token:
                current["refresh_token"] = tokens.refresh_token
            sink(dict(current))
            return tokens.access_token

        refresh = renew

    return XClient(
        http,
        current["access_token"],
        base_url=params.base_url,
        user_id=params.remote_id or None,
        refresh=refresh,
    )


def _facebook(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    from app.core.networks.facebook import FacebookClient

    # the Page id: verified accounts show the Page's username as handle, so prefer remote_id
    page_id = params.remote_id or params.handle
    return FacebookClient(http, params.base_url, page_id, secret["page_token"])


# -- the specs -----------------------------------------------------------------------------------

MASTODON = CredentialSpec(
    network=Network.MASTODON,
    handle_label="Account",
    handle_help="Your organisation's account, e.g. kindlytrust (Kindly checks it with the server).",
    handle_required=False,
    default_base_url=None,
    base_url_help="Your Mastodon server, e.g. https://mastodon.social.",
    fields=(
        CredentialField(
            "access_token",
            "Access token",
            secret=True,
            help="On your server: Preferences → Development → New application, with the "
            "scopes read and write:statuses; then copy “Your access token”.",
        ),
    ),
    stored_keys=frozenset({"access_token"}),
    must_store=frozenset({"access_token"}),
)

BLUESKY = CredentialSpec(
    network=Network.BLUESKY,
    handle_label="Handle",
    handle_help="Your organisation's handle, e.g. kindlytrust.bsky.social.",
    handle_required=True,
    default_base_url="https://bsky.social",
    base_url_help="Your PDS; keep https://bsky.social unless you host your own.",
    fields=(
        CredentialField(
            "app_password",
            "App password",
            secret=True,
            help="Bluesky → Settings → Privacy and security → App passwords → Add. Kindly uses "
            "it once to sign in and keeps only the session, never the app password.",
        ),
    ),
    stored_keys=frozenset({"access_jwt", "refresh_jwt", "did"}),
    must_store=frozenset({"access_jwt", "refresh_jwt"}),
)

X = CredentialSpec(
    network=Network.X,
    handle_label="Username",
    handle_help="Your organisation's username, without the @.",
    handle_required=False,
    default_base_url="https://api.x.com",
    base_url_help="Keep https://api.x.com.",
    fields=(
        CredentialField(
            "access_token",
            "OAuth 2.0 access token",
            secret=True,
            help="A user-context token with tweet.read, tweet.write, users.read, offline.access.",
        ),
        CredentialField(
            "refresh_token",
            "Refresh token",
            secret=True,
            required=False,
            help="Lets Kindly renew the access token; without it you reconnect every two hours.",
        ),
        CredentialField(
            "client_id",
            "Client ID",
            secret=False,
            required=False,
            help="Your X app's OAuth 2.0 client ID; needed to renew tokens.",
        ),
    ),
    stored_keys=frozenset({"access_token", "refresh_token", "client_id"}),
    must_store=frozenset({"access_token"}),
)

FACEBOOK = CredentialSpec(
    network=Network.FACEBOOK,
    handle_label="Page ID",
    handle_help="The numeric id of your organisation's Facebook Page.",
    handle_required=True,
    default_base_url="https://graph.facebook.com",
    base_url_help="Keep https://graph.facebook.com.",
    fields=(
        CredentialField(
            "page_token",
            "Page access token",
            secret=True,
            help="A long-lived Page access token with pages_read_engagement and "
            "pages_manage_engagement.",
        ),
    ),
    stored_keys=frozenset({"page_token"}),
    must_store=frozenset({"page_token"}),
)

REGISTRY: Mapping[Network, NetworkEntry] = {
    Network.MASTODON: NetworkEntry(MASTODON, _mastodon),
    Network.BLUESKY: NetworkEntry(BLUESKY, _bluesky),
    Network.X: NetworkEntry(X, _x),
    Network.FACEBOOK: NetworkEntry(FACEBOOK, _facebook),
}


def spec_for(network: Network | str) -> CredentialSpec:
    return REGISTRY[Network(network)].spec


def factory_for(network: Network | str) -> ClientFactory:
    return REGISTRY[Network(network)].factory
