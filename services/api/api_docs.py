"""The API's documentation pages, served whole by the API: they work offline and load nothing
from a CDN.

``/schema`` (and ``/schema/swagger``) is Swagger UI, its script and style served from
``/schema/assets/`` out of the pinned ``swagger-ui-bundle`` wheel; ``/schema/openapi.json`` is
the document itself. Litestar's other viewers (ReDoc, Elements,
RapiDoc, Scalar) load their code from CDNs and are not served.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components
from litestar.router import Router
from litestar.static_files import create_static_files_router

PATH = "/schema"
ASSETS_PATH = f"{PATH}/assets"
ASSETS_DIR = Path(swagger_ui_bundle.swagger_ui_path)
ASSETS = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css")
FAVICON = "favicon-32x32.png"
CACHE_S = 86_400  # the assets change only with the pinned wheel


def config(components: Components) -> OpenAPIConfig:
    js, preset, css = (f"{ASSETS_PATH}/{name}" for name in ASSETS)
    swagger = SwaggerRenderPlugin(
        js_url=js,
        standalone_preset_js_url=preset,
        css_url=css,
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/{FAVICON}'>",
        path=["/", "/swagger"],
    )
    return OpenAPIConfig(
        title="docling-jobs", version="1.0.0", path=PATH, components=components, render_plugins=[swagger]
    )


def assets() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS_DIR],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=CACHE_S, public=True),
    )
