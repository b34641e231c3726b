from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from runtime.settings import CommonSettings, seed_name
from services.api.domain import Policy

# endpoint -> default "requests/seconds" of its sliding window (env API_RATE_LIMIT_<ENDPOINT>)
RATE_LIMIT_DEFAULTS = {
    "session_create": "10/60",  # per client address
    "session": "60/60",
    "submit": "30/60",
    "list": "60/60",
    "job": "120/60",
    "events": "120/60",
    "result": "60/60",
    "cancel": "30/60",
}


class ApiSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore", populate_by_name=True)

    port: int = Field(3000, validation_alias=seed_name("API_PORT"))
    max_file_size_mb: int = Field(100, validation_alias=seed_name("MAX_FILE_SIZE_MB"))
    sse_heartbeat_s: float = 15.0
    sse_retry_ms: int = 1000
    sse_max_streams: int = Field(1000, ge=1)  # open SSE streams on one API instance
    sse_max_streams_per_session: int = Field(10, ge=1)  # ... of one session, on one instance
    owner_max_queued: int = Field(20, ge=0)  # unfinished jobs one owner may have (0: no limit; E117)
    db_timeout_s: float = 5.0  # PostgreSQL: connect and query limit; past it the request gets 503
    redis_timeout_s: float = 1.0  # Redis: connect and reply limit; past it memory answers
    cookie_secure: bool = (
        False  # always mark the cookie Secure (TLS ends at a proxy); https requests always are
    )
    # comma-separated addresses or networks of reverse proxies whose X-Forwarded-For / -Proto are
    # believed (uvicorn's forwarded_allow_ips); empty: forwarded headers are ignored from every peer
    trusted_proxies: str = ""
    header_timeout_s: float = Field(10.0, gt=0)  # request headers complete within this
    body_timeout_s: float = Field(30.0, gt=0)  # longest silence while a request body is incomplete
    compat_max_sync_wait_s: float = 120.0  # a synchronous /v1/convert answers 504 past this
    compat_max_files: int = 64  # documents in one docling-serve request
    rate_limit_session_create: str = RATE_LIMIT_DEFAULTS["session_create"]
    rate_limit_session: str = RATE_LIMIT_DEFAULTS["session"]
    rate_limit_submit: str = RATE_LIMIT_DEFAULTS["submit"]
    rate_limit_list: str = RATE_LIMIT_DEFAULTS["list"]
    rate_limit_job: str = RATE_LIMIT_DEFAULTS["job"]
    rate_limit_events: str = RATE_LIMIT_DEFAULTS["events"]
    rate_limit_result: str = RATE_LIMIT_DEFAULTS["result"]
    rate_limit_cancel: str = RATE_LIMIT_DEFAULTS["cancel"]

    def policy(self, endpoint: str) -> Policy:
        return Policy.parse(endpoint, getattr(self, f"rate_limit_{endpoint}"))

    @property
    def max_file_size_bytes(self) -> int:
        return self.max_file_size_mb * 1024 * 1024
