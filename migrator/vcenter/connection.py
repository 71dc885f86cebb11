"""Open a read-only vCenter session with explicit TLS choices and user-fit errors."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pyVmomi import vim, vmodl
from pyVmomi.VmomiSupport import GetServiceVersions, versionIdMap

from migrator.errors import VCenterError
from migrator.secrets import Secret
from migrator.vcenter.address import ServerAddress
from migrator.vcenter.readonly import ReadOnlyStub


@dataclass(frozen=True)
class TLSOptions:
    insecure: bool = False
    thumbprint: str | None = None  # SHA-256 (or legacy SHA-1) of the server certificate, hex
    ca_file: Path | None = None

    def normalised_thumbprint(self) -> str | None:
        if not self.thumbprint:
            return None
        hexdigits = self.thumbprint.replace(":", "").replace(" ", "").lower()
        if len(hexdigits) not in (40, 64) or any(c not in "0123456789abcdef" for c in hexdigits):
            raise VCenterError(
                "{thumbprint} must be a SHA-256 (64 hex digits) or SHA-1 (40) fingerprint", field="thumbprint"
            )
        return hexdigits


@dataclass(frozen=True)
class ConnectionParams:
    address: ServerAddress
    user: str
    password: Secret
    tls: TLSOptions
    timeout: float = 120.0


def certificate_thumbprint(der: bytes, length: int = 64) -> str:
    algo = hashlib.sha1 if length == 40 else hashlib.sha256
    return algo(der).hexdigest()


def _ssl_context(tls: TLSOptions) -> ssl.SSLContext:
    if tls.insecure or tls.thumbprint:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the thumbprint pin below replaces CA verification
        return ctx
    return ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)


def _check_pinned_thumbprint(params: ConnectionParams, expected: str) -> None:
    addr = params.address
    ctx = _ssl_context(params.tls)
    try:
        with (
            socket.create_connection((addr.host, addr.port), timeout=params.timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=addr.host) as tls_sock,
        ):
            der = tls_sock.getpeercert(binary_form=True) or b""
    except OSError as exc:
        raise _unreachable(addr, exc) from None
    actual = certificate_thumbprint(der, len(expected))
    if actual != expected:
        raise VCenterError(
            f"TLS: the certificate of {addr.host} has thumbprint {actual}, not the pinned {{thumbprint}}",
            field="thumbprint",
        )


def fault_message(fault: BaseException) -> str:
    """The text of a vSphere fault (pyvmomi's MethodFault.msg), or its type when it has none."""
    return str(getattr(fault, "msg", None) or type(fault).__name__)


def http_connection(params: ConnectionParams) -> http.client.HTTPConnection:
    """A plain HTTP(S) connection to the server with the same TLS choices as the SOAP stub."""
    addr = params.address
    if addr.scheme == "https":
        return http.client.HTTPSConnection(
            addr.host, addr.port, timeout=params.timeout, context=_ssl_context(params.tls)
        )
    return http.client.HTTPConnection(addr.host, addr.port, timeout=params.timeout)


def _unreachable(addr: ServerAddress, exc: BaseException) -> VCenterError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return VCenterError(
            f"TLS: cannot verify the certificate of {addr.host} ({exc.verify_message}); "
            "pin it with {thumbprint} or, for a lab, pass {insecure}",
            field=("thumbprint", "insecure"),
        )
    if isinstance(exc, ssl.SSLError):
        return VCenterError(f"TLS handshake with {addr.display} failed: {exc.reason or exc}")
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return VCenterError(f"cannot reach vCenter at {addr.display}: {reason}")


class Connection:
    """A logged-in, read-only vCenter session."""

    def __init__(self, params: ConnectionParams, stub: ReadOnlyStub, content: Any) -> None:
        self.params = params
        self.stub = stub
        self.content = content

    @property
    def session_cookie(self) -> str:
        return str(self.stub.cookie)

    @property
    def api_version(self) -> str:
        return str(self.stub.version)

    @classmethod
    def open(cls, params: ConnectionParams) -> Connection:
        addr = params.address
        thumbprint = params.tls.normalised_thumbprint() if addr.scheme == "https" else None
        if thumbprint:
            _check_pinned_thumbprint(params, thumbprint)
        stub = cls._stub(params, version=None, thumbprint=thumbprint)
        content = cls._retrieve_content(stub, addr)
        try:
            content.sessionManager.Login(params.user, params.password.reveal(), None)
        except vim.fault.InvalidLogin:
            raise VCenterError(f"login refused at {addr.display} for user {params.user!r}") from None
        except vmodl.MethodFault as exc:
            raise VCenterError(f"login at {addr.display} failed: {fault_message(exc)}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise _unreachable(addr, exc) from None
        return cls(params, stub, content)

    @classmethod
    def attach(cls, params: ConnectionParams, version: str, cookie: str) -> Connection:
        """Join an existing session (worker processes): no second login."""
        thumbprint = params.tls.normalised_thumbprint() if params.address.scheme == "https" else None
        stub = cls._stub(params, version=version, thumbprint=thumbprint)
        stub.cookie = cookie
        return cls(params, stub, cls._retrieve_content(stub, params.address))

    @staticmethod
    def _stub(params: ConnectionParams, version: str | None, thumbprint: str | None) -> ReadOnlyStub:
        addr = params.address
        common: dict[str, Any] = {
            "host": addr.host,
            "port": addr.port,
            "path": addr.path,
            "thumbprint": thumbprint,
            "httpConnectionTimeout": params.timeout,
            "connectionPoolTimeout": -1,
        }
        if addr.scheme == "https":
            common["sslContext"] = _ssl_context(params.tls)
        else:
            common["port"] = -addr.port  # pyvmomi's convention: a negative port means plain http
        if version is None:
            version = negotiate_version(params)
        return ReadOnlyStub(version=version, **common)

    @staticmethod
    def _retrieve_content(stub: ReadOnlyStub, addr: ServerAddress) -> Any:
        try:
            return vim.ServiceInstance("ServiceInstance", stub).RetrieveContent()
        except (OSError, http.client.HTTPException) as exc:
            raise _unreachable(addr, exc) from None
        except vmodl.MethodFault as exc:
            raise VCenterError(
                f"{addr.display} is not a usable vSphere endpoint: {fault_message(exc)}"
            ) from None
        except Exception as exc:  # pyvmomi raises plain Exceptions for non-SOAP answers
            raise VCenterError(f"{addr.display} did not answer as a vSphere SDK endpoint ({exc})") from None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.content.sessionManager.Logout()


def negotiate_version(params: ConnectionParams) -> str:
    """The newest vim25 API version both pyvmomi and the server speak (vimServiceVersions.xml)."""
    addr = params.address
    conn = http_connection(params)
    try:
        conn.request("GET", addr.path + "/vimServiceVersions.xml")
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise _unreachable(addr, exc) from None
    finally:
        conn.close()
    if response.status != 200:
        raise VCenterError(f"{addr.display} is not a vSphere SDK endpoint (HTTP {response.status})")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise VCenterError(
            f"{addr.display} is not a vSphere SDK endpoint (unreadable version list)"
        ) from None
    offered = {v.text for ns in root.iter("namespace") for v in [*ns.iter("version")] if v.text}
    for candidate in GetServiceVersions("vim25"):
        if versionIdMap.get(candidate) in offered:
            return str(candidate)
    raise VCenterError(f"{addr.display} offers no vSphere API version this pyvmomi supports")
