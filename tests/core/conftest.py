"""Core fixtures: accounts connected to the network fakes over real HTTP (see
``tests.helpers.accounts_over_http``; a module's own fixture of the same name wins)."""

from tests.helpers.accounts_over_http import client_registry, http, http_timeout, service

__all__ = ["client_registry", "http", "http_timeout", "service"]
