"""Errors raised by the launcher."""


class StackError(RuntimeError):
    """A component could not be started, stopped or found."""


class PortInUseError(StackError):
    """A port the stack needs is already taken on 127.0.0.1."""

    def __init__(self, port: int, env_var: str) -> None:
        self.port = port
        self.env_var = env_var
        super().__init__(
            f"port {port} ({env_var}) is already in use on 127.0.0.1; "
            f"stop what holds it or set {env_var} to another port"
        )
