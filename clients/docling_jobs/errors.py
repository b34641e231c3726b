"""Errors the API answers with (problem+json), turned into exceptions."""

from __future__ import annotations

import httpx


class ApiError(Exception):
    """A problem+json answer from the API."""

    def __init__(self, status: int, problem: dict) -> None:
        self.status, self.problem = status, problem
        self.code = problem.get("code", f"HTTP{status}")
        super().__init__(f"{self.code}: {problem.get('detail') or problem.get('title', 'error')}")


def checked(response: httpx.Response) -> httpx.Response:
    """The response if it succeeded, else ApiError with its problem+json (read even when streamed)."""
    if response.is_success:
        return response
    response.read()
    try:
        problem = response.json()
    except ValueError:
        problem = {"title": response.text[:200]}
    raise ApiError(response.status_code, problem)
