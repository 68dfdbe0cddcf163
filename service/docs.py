"""``/docs`` (Swagger UI) and ``/redoc``, with their scripts served locally.

FastAPI's pages load Swagger UI and ReDoc from a CDN, so on a machine
without internet access they are blank. The same assets ship in the
``fastapi-offline`` package (part of the ``service`` extra; Swagger UI 5,
which reads OpenAPI 3.1): they are served from ``/docs/assets``, and the
pages name no other host.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger("service")

ASSETS_URL = "/docs/assets"
#: No badge fetched from validator.swagger.io.
_SWAGGER_PARAMETERS = {"validatorUrl": None}


def asset_dir() -> Path | None:
    """The folder of Swagger UI and ReDoc assets, or None without the package."""
    try:
        folder = resources.files("fastapi_offline") / "static"
    except ModuleNotFoundError:
        return None
    folder = Path(str(folder))
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def add_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` from the packaged assets.

    The app must be built with ``docs_url=None, redoc_url=None``. Without
    the assets (``fastapi-offline`` missing), the pages use the CDN.
    """
    folder = asset_dir()
    if folder is not None:
        app.mount(ASSETS_URL, StaticFiles(directory=folder), name="docs-assets")
        swagger = {
            "swagger_js_url": f"{ASSETS_URL}/swagger-ui-bundle.js",
            "swagger_css_url": f"{ASSETS_URL}/swagger-ui.css",
            "swagger_favicon_url": f"{ASSETS_URL}/favicon.png",
        }
        redoc = {
            "redoc_js_url": f"{ASSETS_URL}/redoc.standalone.js",
            "redoc_favicon_url": f"{ASSETS_URL}/favicon.png",
        }
    else:
        log.warning(
            "fastapi-offline is not installed: /docs loads its scripts from a "
            "CDN (pip install 'featimp-toolkit[service]')"
        )
        swagger, redoc = {}, {}

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
            **{key: f"{root}{url}" for key, url in swagger.items()},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            with_google_fonts=False,
            **{key: f"{root}{url}" for key, url in redoc.items()},
        )
