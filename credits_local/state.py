"""The state directory: the local signing key, the service credential, and where the running stack listens.

Default ``.credits-local/`` in the repository (CREDITS_LOCAL_STATE_DIR or --state-dir to choose another), so
``token``, ``invoke``, ``trigger`` and ``pay`` find the running stack. The key and the credential are made
once and kept, so tokens and credentials stay valid across restarts."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from credits_local.template import ROOT

ENV_VAR = "CREDITS_LOCAL_STATE_DIR"


class StateError(RuntimeError):
    """The state directory says something that stops the command (no stack running, one already running)."""


@dataclass(frozen=True)
class ServiceCredential:
    access_key_id: str
    secret_access_key: str

    def __str__(self) -> str:
        return f"{self.access_key_id}:{self.secret_access_key}"


@dataclass(frozen=True)
class RunningStack:
    """What ``up`` writes while it runs."""

    pid: int
    gateway_url: str
    moto_url: str
    stripe_url: str
    stack_name: str
    template: str
    parameters: dict[str, str] = field(default_factory=dict)  # the template parameters given to up


def default_dir() -> Path:
    return Path(os.environ.get(ENV_VAR) or ROOT / ".credits-local")


class StateDir:
    def __init__(self, path: Path | None = None) -> None:
        self.path = (path or default_dir()).resolve()

    def _file(self, name: str) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path / name

    def signing_key(self) -> rsa.RSAPrivateKey:
        """The RSA key that signs local tokens (made on first use)."""
        path = self._file("signing-key.pem")
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _write_private(path, pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise StateError(f"{path} is not an RSA private key")
        return loaded

    def service_credential(self) -> ServiceCredential:
        """The access key id and secret that sign service requests (made on first use)."""
        path = self._file("service-credential.json")
        if not path.exists():
            made = ServiceCredential("AKIALOCAL" + secrets.token_hex(6).upper(), secrets.token_urlsafe(30))
            _write_private(path, json.dumps(asdict(made)).encode())
        return ServiceCredential(**json.loads(path.read_text()))

    def webhook_secret(self) -> str:
        """The Stripe webhook signing secret (made on first use)."""
        path = self._file("stripe-webhook-secret")
        if not path.exists():
            _write_private(path, ("whsec_" + secrets.token_hex(24)).encode())
        return path.read_text().strip()

    @property
    def stripe_store(self) -> Path:
        """localstripe's store for this state directory (so two stacks never share one)."""
        return self._file("localstripe.pickle")

    @contextlib.contextmanager
    def locked(self) -> Iterator[Lock]:
        """Hold the directory's lock while a stack runs (a second ``up`` with it fails with a clear message)."""
        handle = self._file("stack.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            other = self._read_running()
            pid = f" (pid {other.pid}, {other.gateway_url})" if other else ""
            raise StateError(f"a local stack is already running with state in {self.path}{pid}") from None
        try:
            yield Lock(self._file("stack.json"))
        finally:
            self._file("stack.json").unlink(missing_ok=True)
            _unlock(handle)

    def _read_running(self) -> RunningStack | None:
        path = self.path / "stack.json"
        try:
            return RunningStack(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def running_stack(self) -> RunningStack:
        """The stack running with this state, or StateError."""
        stack = self._read_running()
        if stack is None or not _alive(stack.pid):
            raise StateError(
                f"no local stack is running with state in {self.path}: start one with `make dev`"
            )
        return stack


@dataclass
class Lock:
    description: Path

    def publish(self, stack: RunningStack) -> None:
        """Say where the running stack listens (for token, invoke, trigger and pay)."""
        self.description.write_text(json.dumps(asdict(stack), indent=2))


def _write_private(path: Path, data: bytes) -> None:
    """Create the file readable by its owner only; if another command just made it, keep theirs."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def _unlock(lock: IO[Any]) -> None:
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
