"""The domain: cases, templates, networks, sync, outbox, secrets. No widgets."""
