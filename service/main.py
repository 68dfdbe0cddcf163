"""Placeholder for the FastAPI app factory, ``create_app(settings)``.

The service is built in its own issue; nothing here runs at import time.
"""


def create_app(settings=None):
    """Build the FastAPI application (not implemented yet)."""
    raise NotImplementedError("the featimp service is not built yet")
