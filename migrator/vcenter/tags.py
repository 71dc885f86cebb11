"""vSphere tags through the vAPI REST endpoint (/rest), read-only.

Only GETs and the `list-*` POST actions are sent; a vCenter without the endpoint (or an
account without tagging rights) yields no tags and a warning, never a failed discovery.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import ssl
import urllib.parse
from typing import Any

from migrator.vcenter.connection import ConnectionParams, http_connection
from migrator.vcenter.readonly import check_rest


class TagsUnavailable(Exception):
    pass


class _Rest:
    def __init__(self, params: ConnectionParams) -> None:
        self.conn = http_connection(params)
        self.session: str | None = None
        self.params = params

    def call(self, method: str, path: str, body: Any = None, action: str | None = None) -> Any:
        url = "/rest" + path + (f"?~action={action}" if action else "")
        check_rest(method, url)  # an allow-list of (method, path): refused before a byte is sent
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.session:
            headers["vmware-api-session-id"] = self.session
        else:
            creds = f"{self.params.user}:{self.params.password.reveal()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(creds).decode()
        try:
            self.conn.request(
                method, url, body=json.dumps(body) if body is not None else None, headers=headers
            )
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            raise TagsUnavailable(f"tagging endpoint unreachable ({type(exc).__name__})") from None
        if response.status != 200:
            raise TagsUnavailable(f"tagging endpoint answered HTTP {response.status} to {method} {path}")
        return json.loads(data or b"null").get("value") if data else None


def _segment(identifier: str) -> str:
    """An id from the server as one path segment: a '/', '?' or '#' in it cannot change the
    request into another endpoint (colons stay, vSphere ids are URNs)."""
    return urllib.parse.quote(str(identifier), safe=":")


def collect_tags(params: ConnectionParams) -> dict[str, list[str]]:
    """moref -> ["Category:Tag", ...] for every tagged object."""
    rest = _Rest(params)
    try:
        rest.session = rest.call("POST", "/com/vmware/cis/session")
        tag_ids: list[str] = rest.call("GET", "/com/vmware/cis/tagging/tag") or []
        if not tag_ids:
            return {}
        categories: dict[str, str] = {}
        names: dict[str, str] = {}
        for tag_id in tag_ids:
            tag = rest.call("GET", f"/com/vmware/cis/tagging/tag/id:{_segment(tag_id)}")
            if not isinstance(tag, dict) or "category_id" not in tag:
                continue  # deleted since the listing, or an answer we cannot read
            cat_id = tag["category_id"]
            if cat_id not in categories:
                category = rest.call("GET", f"/com/vmware/cis/tagging/category/id:{_segment(cat_id)}")
                categories[cat_id] = str((category or {}).get("name", cat_id))
            names[tag_id] = f"{categories[cat_id]}:{tag.get('name', tag_id)}"
        attached = rest.call(
            "POST",
            "/com/vmware/cis/tagging/tag-association",
            {"tag_ids": tag_ids},
            "list-attached-objects-on-tags",
        )
        out: dict[str, list[str]] = {}
        for entry in attached or []:
            for obj in entry.get("object_ids") or []:
                if entry.get("tag_id") in names:  # a tag created after the listing is not ours
                    out.setdefault(obj["id"], []).append(names[entry["tag_id"]])
        return out
    finally:
        if rest.session:
            with contextlib.suppress(TagsUnavailable):
                rest.call("DELETE", "/com/vmware/cis/session")
        rest.conn.close()
