"""The featimp REST service (FastAPI): ``create_app(settings)`` builds it."""
