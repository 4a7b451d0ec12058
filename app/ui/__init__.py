"""The PySide6 user interface. It calls app.core services and listens to their signals."""
