from services.progress.bootstrap import build
from services.progress.settings import ProgressSettings
from services.runtime import logs, tracing, worker

settings = ProgressSettings()
logs.configure("progress", settings.log_level)
tracing.configure("progress")
worker.serve(build(settings), settings.bind_host, settings.port)
