"""compose.yaml describes the same system as the local stack (no Docker engine here to run it)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_every_service_and_dependency_is_there() -> None:
    services = load()["services"]
    assert {
        "api",
        "ingest",
        "converter",
        "progress",
        "mcp-server",
        "nats",
        "redis",
        "postgres",
        "pgbouncer",
    } <= set(services)
    for name in ("api", "ingest", "converter", "progress"):
        assert services[name]["command"] == ["python", "-m", f"services.{name}"]


def test_services_get_the_seed_variables() -> None:
    env = load()["services"]["api"]["environment"]
    assert {
        "NATS_URL",
        "REDIS_HOST",
        "REDIS_PORT",
        "DATABASE_URL",
        "MCP_SERVER_URL",
        "UPLOAD_DIR",
        "MAX_FILE_SIZE_MB",
    } <= set(env)


def test_uploads_are_shared_by_ingest_and_the_mcp_server_only_for_reading() -> None:
    services = load()["services"]
    assert "uploads:/data/uploads" in services["ingest"]["volumes"]
    assert "uploads:/data/uploads:ro" in services["mcp-server"]["volumes"]
    assert services["mcp-server"]["environment"]["MCP_SERVER_ALLOWED_ROOTS"] == "/data/uploads"


def test_dockerfiles_exist() -> None:
    for dockerfile in ("deploy/services.Dockerfile", "deploy/mcp-server.Dockerfile"):
        assert (ROOT / dockerfile).read_text().startswith("#")
