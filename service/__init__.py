"""The featimp REST service (FastAPI). The app itself lands with the service issue."""
