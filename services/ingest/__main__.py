from runtime import logs, tracing, worker
from services.ingest.bootstrap import build
from services.ingest.settings import IngestSettings

settings = IngestSettings()
logs.configure("ingest", settings.log_level)
tracing.configure("ingest")
worker.serve(build(settings), settings.bind_host, settings.port)
