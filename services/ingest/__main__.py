from services.ingest.bootstrap import build
from services.ingest.settings import IngestSettings
from services.runtime import logs, worker

settings = IngestSettings()
logs.configure("ingest", settings.log_level)
worker.serve(build(settings), settings.bind_host, settings.port)
