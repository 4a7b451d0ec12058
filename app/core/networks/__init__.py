"""One client per network over an injected ``httpx.Client``; see ``base`` for the contract."""
