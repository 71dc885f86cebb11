"""Team mode's people: who may do what on the dashboard, and the token each one holds.

A token is shown once, when its identity is added; the workspace keeps only its SHA-256.
The roles nest (docs/dashboard.md#team-mode):

- viewer: reads every page and API answer; changes nothing;
- reviewer: also pins and unpins VMs (what-if Save) and adds or reverts plan edits;
- approver: also approves and merges pull requests.

The CLI acts as the machine's user (an `Actor` without a role): whoever can run it can open the
workspace's database anyway, so roles bind the dashboard, where a token is all a person shows.
"""

from __future__ import annotations

import getpass
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from migrator.app.workspace import Workspace
from migrator.errors import Forbidden, UsageError
from migrator.settings import DEFAULT_TENANT, TENANT_NAME

ROLES = ("viewer", "reviewer", "approver")  # each may do what the ones before it may
# action -> the least role that may do it
NEEDS = {
    "pin": "reviewer",
    "edit": "reviewer",
    "approve": "approver",
    "merge": "approver",
    "land": "approver",
    "close": "approver",
}
TOKEN_PREFIX = "mgr_"  # recognisable in a leaked paste or a secret scanner's rules
# A token names its tenant (`mgr_<tenant>.<secret>`; a token of the tenant 'default' is
# `mgr_<secret>`, as tokens made before tenants are): the lookup then runs as that tenant, under
# its row-level security, and no query ever reads identities across tenants. A forged prefix
# names a tenant that holds no such hash. '.' is in no tenant name and no token_urlsafe secret.
TENANT_SEPARATOR = "."
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")


@dataclass(frozen=True)
class Actor:
    """Who does something: a team identity (with its role) or the CLI's user (no role: unrestricted)."""

    name: str
    via: str  # cli | web
    role: str | None = None
    tenant: str = DEFAULT_TENANT  # a team identity's tenant: its requests run as it

    def may(self, action: str) -> bool:
        if self.role is None:
            return True
        return ROLES.index(self.role) >= ROLES.index(NEEDS[action])

    def require(self, action: str) -> None:
        if not self.may(action):
            raise Forbidden(
                f"{self.name} is a {self.role}: to {action} needs the {NEEDS[action]} role or above"
            )


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "unknown"


def cli_actor(who: str | None = None) -> Actor:
    """The CLI's actor: the name given (`--who`, `--by`) or the machine's login name."""
    return Actor(who or os_user(), "cli")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewIdentity:
    identity: dict[str, Any]
    token: str  # shown once to the person; never stored


def add_identity(ws: Workspace, name: str, role: str, actor: Actor) -> NewIdentity:
    from migrator.app.audit import record

    if not _NAME.fullmatch(name):
        raise UsageError(
            f"identity name {name[:100]!r}: use 1-100 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if role not in ROLES:
        raise UsageError(f"{{role}} {role[:100]!r}: use one of {', '.join(ROLES)}", field="role")
    token = TOKEN_PREFIX + _tenant_part(ws.tenant) + secrets.token_urlsafe(32)
    identity = {**ws.identities.add(name, role, token_hash(token)), "tenant": ws.tenant}
    record(ws, actor, "identity.add", f"identity:{name}", {"role": role})
    return NewIdentity(identity, token)


def revoke_identity(ws: Workspace, name: str, actor: Actor) -> dict[str, Any]:
    from migrator.app.audit import record

    revoked = ws.identities.revoke(name)
    record(ws, actor, "identity.revoke", f"identity:{name}", {})
    return revoked


def list_identities(ws: Workspace) -> list[dict[str, Any]]:
    return ws.identities.list()


def team_mode(ws: Workspace) -> bool:
    """On once any identity was ever added, revoked ones included: revoking the last person
    must not reopen the dashboard to anyone who can reach it."""
    return ws.identities.any()


def _tenant_part(tenant: str) -> str:
    """What a new token says of its tenant: nothing for 'default' (tokens look as they always did)."""
    return "" if tenant == DEFAULT_TENANT else tenant + TENANT_SEPARATOR


def token_tenant(token: str) -> str | None:
    """The tenant a token names; None when it names none that could exist."""
    body = token.removeprefix(TOKEN_PREFIX)
    if TENANT_SEPARATOR not in body:
        return DEFAULT_TENANT
    tenant = body.split(TENANT_SEPARATOR, 1)[0]
    return tenant if TENANT_NAME.fullmatch(tenant) else None


def authenticate(ws: Workspace, token: str) -> Actor | None:
    """The dashboard actor holding this token, in the token's tenant; None for an unknown or
    revoked token, or one naming a tenant this database cannot serve (SQLite: only 'default')."""
    tenant = token_tenant(token) if token else None
    if tenant is None:
        return None
    try:
        found = ws.as_tenant(tenant).identities.by_hash(token_hash(token))
    except UsageError:
        return None
    return Actor(found["name"], "web", found["role"], tenant) if found else None


def mcp_actor(ws: Workspace, token: str | None, allow_edits: bool) -> Actor:
    """Who `migrator mcp` over stdio acts as: the machine's user, or in team mode the identity
    whose token it was given (required with --allow-edits: roles bind agents as they bind people)."""
    if not team_mode(ws) or (token is None and not allow_edits):
        return Actor(os_user(), "mcp", tenant=ws.tenant)
    if token is None:
        raise UsageError("team mode: --allow-edits over stdio needs --token-env naming an identity's token")
    found = authenticate(ws, token)
    if found is None:
        raise UsageError("--token-env: not the token of an identity (unknown or revoked)")
    return Actor(found.name, "mcp", found.role, found.tenant)
