"""The entrypoint: a thin ``create_app()`` that routes HTTP requests to the handlers (the Litestar
controllers); wiring lives in bootstrap, behaviour in the handlers."""

from __future__ import annotations

from litestar import Litestar

from services.api import api_docs, bootstrap, deps, guard, metrics, openapi, problems
from services.api.compat.chunk_routes import ChunkController
from services.api.compat.controllers import ConvertController, TaskController
from services.api.compat.housekeeping import ClearController, ServiceController
from services.api.compat.socket import StatusSocketController
from services.api.handlers import JobController
from services.api.health import HealthController
from services.api.session_controller import SessionController
from services.api.settings import ApiSettings
from services.api.web import web_page

MULTIPART_OVERHEAD = 1024 * 1024


def create_app(
    settings: ApiSettings | None = None,
    services: bootstrap.Wiring = bootstrap.real_services,
    *,
    watch: bool = True,
) -> Litestar:
    """The app; ``services`` builds what the handlers use (unit tests pass fakes, and ``watch=False``)."""
    settings = settings or ApiSettings()
    return Litestar(
        route_handlers=[
            SessionController,
            JobController,
            HealthController,
            ConvertController,
            ChunkController,
            TaskController,
            ServiceController,
            StatusSocketController,
            ClearController,
            metrics.MetricsController,
            web_page,
            api_docs.assets(),
        ],
        dependencies=deps.PROVIDE,  # the one typed services object, as `deps`
        middleware=[metrics.instrument],
        lifespan=[bootstrap.lifespan(settings, services, watch=watch)],
        before_send=[guard.send_rate_limit],
        exception_handlers=problems.HANDLERS,
        request_max_body_size=settings.max_file_size_bytes + MULTIPART_OVERHEAD,
        openapi_config=api_docs.config(openapi.COMPONENTS),
        debug=False,
        # Litestar's default logging config replaces the root handler with a plain-text one; the
        # process's JSON handler (runtime.logs) stays, and problems.py logs what fails
        logging_config=None,
    )
