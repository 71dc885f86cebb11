"""Bulk property retrieval: PropertyCollector RetrievePropertiesEx with paging.

Never walks managed-object attributes one by one (that is ~7x slower, and vcsim drops the
connection on lazily read unset properties); ReadOnlyStub refuses the `Fetch` such walks use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from pyVmomi import vim, vmodl

PC = vmodl.query.PropertyCollector
PAGE_SIZE = 500


def _filter_for_container(content: Any, obj_type: type, paths: Iterable[str]) -> tuple[Any, Any]:
    view = content.viewManager.CreateContainerView(content.rootFolder, [obj_type], True)
    traverse = PC.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
    obj_spec = PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])
    prop_spec = PC.PropertySpec(type=obj_type, pathSet=sorted(set(paths)), all=False)
    return view, PC.FilterSpec(objectSet=[obj_spec], propSet=[prop_spec])


def _run(content: Any, spec: Any, page_size: int) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    collector = content.propertyCollector
    result = collector.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=page_size))
    while result is not None:
        for obj in result.objects:
            yield obj.obj._moId, obj.obj, {p.name: p.val for p in obj.propSet or []}
        if not result.token:
            break
        result = collector.ContinueRetrievePropertiesEx(result.token)


def retrieve_all(
    content: Any, obj_type: type, paths: Iterable[str], page_size: int = PAGE_SIZE
) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(moref, object, {path: value}) for every object of obj_type in the inventory."""
    view, spec = _filter_for_container(content, obj_type, paths)
    try:
        yield from _run(content, spec, page_size)
    finally:
        with contextlib.suppress(Exception):
            view.DestroyView()


def retrieve_objects(
    content: Any, obj_type: type, morefs: Iterable[str], paths: Iterable[str], page_size: int = PAGE_SIZE
) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """The same for a given list of objects (a worker's share of the VMs)."""
    stub = content.propertyCollector._stub
    objs = [PC.ObjectSpec(obj=obj_type(ref, stub), skip=False) for ref in morefs]
    if not objs:
        return
    prop_spec = PC.PropertySpec(type=obj_type, pathSet=sorted(set(paths)), all=False)
    yield from _run(content, PC.FilterSpec(objectSet=objs, propSet=[prop_spec]), page_size)


def list_morefs(content: Any, obj_type: type) -> list[str]:
    """Every object of a type, cheaply: the container view's own `view` property."""
    view = content.viewManager.CreateContainerView(content.rootFolder, [obj_type], True)
    try:
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=view, skip=False)],
            propSet=[PC.PropertySpec(type=vim.view.ContainerView, pathSet=["view"])],
        )
        refs: list[str] = []
        for _ref, _obj, props in _run(content, spec, PAGE_SIZE):
            refs.extend(o._moId for o in props.get("view") or [])
        return refs
    finally:
        with contextlib.suppress(Exception):
            view.DestroyView()
