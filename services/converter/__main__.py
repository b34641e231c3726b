from services.converter.bootstrap import build
from services.converter.settings import ConverterSettings
from services.runtime import logs, worker

settings = ConverterSettings()
logs.configure("converter", settings.log_level)
worker.serve(build(settings), settings.bind_host, settings.port)
