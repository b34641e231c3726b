import uvicorn

from runtime import logs, tracing
from services.api import redact, serving
from services.api.entrypoint import create_app
from services.api.settings import ApiSettings

settings = ApiSettings()
logs.configure("api", settings.log_level)
redact.install()  # no API key from a query string in the log
tracing.configure("api")
uvicorn.run(create_app(settings), **serving.uvicorn_options(settings))
