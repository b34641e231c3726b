"""Credentials inside connection URLs: add one, take one out, hide one (stdlib only: the launcher
imports it before ``make install``)."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` for its user (``scheme://user:password@host...``); unchanged when
    ``password`` is empty or the URL already carries one. Several comma-separated URLs (NATS
    servers) each get it."""
    if not password:
        return url
    return ",".join(_with_password(part.strip(), password) for part in url.split(",") if part.strip())


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def without_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password (None when it had none)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), unquote(parts.password)


def redacted(url: str) -> str:
    """``url`` fit for a log line or a terminal: its password (of every comma-separated URL) as ``***``."""
    return ",".join(_redacted(part.strip()) for part in url.split(","))


def _redacted(url: str) -> str:
    bare, password = without_password(url)
    if password is None:
        return url
    parts = urlsplit(bare)
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
