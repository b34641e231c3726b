import uvicorn

from services.api import serving
from services.api.app import create_app
from services.api.settings import ApiSettings
from services.runtime import logs, tracing

settings = ApiSettings()
logs.configure("api", settings.log_level)
tracing.configure("api")
uvicorn.run(create_app(settings), **serving.uvicorn_options(settings))
