"""The read-only guard: only allow-listed vSphere methods ever leave this process.

Every SOAP call pyvmomi makes goes through `SoapStubAdapter.InvokeMethod`; ReadOnlyStub
checks the method's WSDL name against READ_METHODS and refuses anything else before a byte
is sent. CreateContainerView/DestroyView create and drop a session-scoped view object; they
change no inventory state and disappear with the session.
"""

from __future__ import annotations

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
