from runtime import logs, tracing, worker
from services.converter.bootstrap import build
from services.converter.settings import ConverterSettings

settings = ConverterSettings()
logs.configure("converter", settings.log_level)
tracing.configure("converter")
worker.serve(build(settings), settings.bind_host, settings.port)
