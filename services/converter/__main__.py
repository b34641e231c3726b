from services.converter.bootstrap import build
from services.converter.settings import ConverterSettings
from services.runtime import logs, tracing, worker

settings = ConverterSettings()
logs.configure("converter", settings.log_level)
tracing.configure("converter")
worker.serve(build(settings), settings.bind_host, settings.port)
