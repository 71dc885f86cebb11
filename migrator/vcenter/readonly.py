"""The read-only guard: only allow-listed vSphere methods ever leave this process.

Every SOAP call pyvmomi makes goes through `SoapStubAdapter.InvokeMethod`; ReadOnlyStub
checks the method's WSDL name against READ_METHODS and refuses anything else before a byte
is sent. CreateContainerView/DestroyView create and drop a session-scoped view object; they
change no inventory state and disappear with the session.

REST/vAPI calls (tags) pass `check_rest` before they are sent: an allow-list of (method,
request target) patterns. Reads are GETs of tagging objects; the only POSTs are the session
login and the `list-*` query actions, and the only DELETE is the logout of our own session.
"""

from __future__ import annotations

import re
from typing import Any

from pyVmomi import SoapStubAdapter

from migrator.errors import WriteRefused

READ_METHODS: frozenset[str] = frozenset(
    {
        # session
        "RetrieveServiceContent",
        "Login",
        "Logout",
        "SessionIsActive",
        "CurrentTime",
        # property collector
        "RetrieveProperties",
        "RetrievePropertiesEx",
        "ContinueRetrievePropertiesEx",
        "CancelRetrievePropertiesEx",
        # session-scoped views (no inventory change)
        "CreateContainerView",
        "DestroyView",
        # performance manager
        "QueryPerfCounter",
        "QueryPerfCounterByLevel",
        "QueryPerfProviderSummary",
        "QueryAvailablePerfMetric",
        "QueryPerf",
        # authorization (to warn about over-privileged accounts)
        "HasPrivilegeOnEntities",
        "HasPrivilegeOnEntity",
        "FetchUserPrivilegeOnEntities",
        "RetrieveEntityPermissions",
        "RetrieveAllPermissions",
    }
)


class ReadOnlyStub(SoapStubAdapter):
    """A pyvmomi SOAP stub that refuses every method outside READ_METHODS."""

    def InvokeMethod(self, mo: Any, info: Any, args: Any, *rest: Any) -> Any:
        name = getattr(info, "wsdlName", None)
        if name not in READ_METHODS:
            raise WriteRefused(f"refused to call vSphere method {name!r}: discovery is read-only")
        return super().InvokeMethod(mo, info, args, *rest)


_ID = r"[^/?#]+"
REST_ALLOWED: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(pattern))
    for method, pattern in (
        # session: log in, log out (our own session only: no session id in the path)
        ("POST", r"/rest/com/vmware/cis/session"),
        ("DELETE", r"/rest/com/vmware/cis/session"),
        ("POST", r"/api/session"),
        ("DELETE", r"/api/session"),
        # tagging reads (the /rest endpoint of vSphere 6.5+ and the /api endpoint of 7.0U2+)
        ("GET", rf"/rest/com/vmware/cis/tagging/(tag|category)(/id:{_ID})?"),
        ("GET", rf"/api/cis/tagging/(tag|category)(/{_ID})?"),
        # queries that vAPI exposes as POST actions but that change nothing
        ("POST", r"/rest/com/vmware/cis/tagging/tag-association\?~action=list-attached-objects-on-tags"),
        ("POST", r"/api/cis/tagging/tag-association\?action=list-attached-objects-on-tags"),
    )
)


def check_rest(method: str, target: str) -> None:
    """Refuse, before sending, any REST call outside REST_ALLOWED (`target`: path and query)."""
    verb = method.upper()
    if not any(verb == allowed and pattern.fullmatch(target) for allowed, pattern in REST_ALLOWED):
        raise WriteRefused(f"refused REST call {verb} {target[:200]}: discovery is read-only")
