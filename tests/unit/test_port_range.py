"""A process's own port range (pytest-xdist workers): free ports in turn, none handed out twice
until the range comes round, and a clear error when it has too few."""

from __future__ import annotations

import socket

import pytest

from devstack import ports
from devstack.errors import StackError


@pytest.fixture
def own_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_range", None)  # restored after the test: the kernel's choice
    monkeypatch.setattr(ports, "_range_size", 0)
    ports.use_range(20990, 20999)


def test_ports_come_in_turn_and_skip_a_taken_one(own_range: None) -> None:
    with socket.socket() as taken:
        taken.bind((ports.HOST, 20992))
        taken.listen()
        assert ports.free_ports(3) == [20990, 20991, 20993]
    assert ports.free_ports(2) == [20994, 20995]


def test_a_range_with_too_few_free_ports_says_so(own_range: None) -> None:
    with pytest.raises(StackError, match="fewer than 11 free ports"):
        ports.free_ports(11)
