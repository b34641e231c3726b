from runtime import logs, tracing, worker
from services.progress.bootstrap import build
from services.progress.settings import ProgressSettings

settings = ProgressSettings()
logs.configure("progress", settings.log_level)
tracing.configure("progress")
worker.serve(build(settings), settings.bind_host, settings.port)
