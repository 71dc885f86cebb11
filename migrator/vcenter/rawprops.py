"""RetrievePropertiesEx pages parsed from the raw SOAP body, for the VMs' large property set.

pyvmomi's SAX deserialiser builds a typed object for every element of every page (about 96%
of discovery's client time on 10,000 VMs). Here the page is parsed by lxml (libxml2, C) and
each property value is wrapped in a `RawObject`: a lazy view that converts a child element
only when mapping reads it, using pyvmomi's own type metadata (property types, arrays,
subclasses), so `mapping.vm_record` reads it exactly like the typed object. Unread parts of
a page (most of the device tree) are never converted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pyVmomi import VmomiSupport, vmodl

from migrator.vcenter.rawsoap import VIM, XSI_TYPE, stream_elements

PC = vmodl.query.PropertyCollector
RESULT_CHILD_DEPTH = 5  # Envelope / Body / Response / returnval / (objects | token)
_XSD_NS = "http://www.w3.org/2001/XMLSchema"


class ManagedRef:
    """A managed object reference: only its id is ever read (`moref()` in mapping)."""

    __slots__ = ("_moId", "_wsdlName")

    def __init__(self, moid: str, kind: str) -> None:
        self._moId = moid
        self._wsdlName = kind


class RawObject:
    """A vSphere data object read lazily from its XML element. A property, once converted, is
    kept as an instance attribute, so later reads are plain attribute reads that never reach
    __getattr__ (the mapping reads some properties of every device several times)."""

    _children: dict[str, list[Any]] | None = None  # a class default: one store fewer per object

    def __init__(self, element: Any, cls: type) -> None:
        self._el = element
        self._cls = cls

    def __getattr__(self, name: str) -> Any:
        if name[:1] == "_":  # no vSphere property starts with one: ours, or Python's
            raise AttributeError(name)
        tag, item, ptype = _PROPERTIES.get((self._cls, name)) or _property(self._cls, name)
        children = self._children
        if children is None:  # one pass over the children instead of a search per property
            children = self._children = {}
            for child in self._el:
                children.setdefault(child.tag, []).append(child)
        elements = children.get(tag)
        if item is not None:  # an array: one element per item, none when empty or unset
            value: Any = [_one(e, item) for e in elements] if elements else []
        else:
            value = _one(elements[0], ptype) if elements else None
        setattr(self, name, value)
        return value


def vim_type(obj: Any) -> type:
    """The vSphere class of a typed pyvmomi object or of a RawObject."""
    return obj._cls if isinstance(obj, RawObject) else type(obj)


# (class, property) -> (its element's tag, the item class if it is an array, its class)
_PROPERTIES: dict[tuple[type, str], tuple[str, type | None, type]] = {}
_WSDL_TYPES: dict[str, type | None] = {}


def _property(cls: type, name: str) -> tuple[str, type | None, type]:
    try:
        ptype = cls._GetPropertyInfo(name).type  # type: ignore[attr-defined]
    except (AttributeError, KeyError):
        raise AttributeError(f"{cls.__name__} has no property {name!r}") from None  # as typed
    item = ptype.Item if issubclass(ptype, list) else None
    found = _PROPERTIES[(cls, name)] = (VIM + name, item, ptype)
    return found


def _wsdl_type(xsi: str) -> type | None:
    if xsi not in _WSDL_TYPES:
        prefix, _, name = xsi.rpartition(":")
        ns = _XSD_NS if prefix == "xsd" else "urn:vim25"
        try:
            _WSDL_TYPES[xsi] = VmomiSupport.GetWsdlType(ns, name)
        except KeyError:
            _WSDL_TYPES[xsi] = None  # unknown to this pyvmomi: fall back to the declared type
    return _WSDL_TYPES[xsi]


_LIST, _DATA, _REF, _BOOL, _INT, _FLOAT, _TEXT = range(7)
# (xsi:type or None, declared class) -> (how the value is read, its class): one dict lookup per
# value instead of a type lookup and a kind lookup (every device of every VM is a value).
_PLANS: dict[tuple[str | None, type], tuple[int, type]] = {}


def _kind(cls: type) -> int:
    """How a value of this class is read (the checks are ordered)."""
    checks = [
        (list, _LIST),
        (VmomiSupport.DataObject, _DATA),
        (VmomiSupport.ManagedObject, _REF),
        (bool, _BOOL),
        (int, _INT),
        (float, _FLOAT),
    ]
    return next((k for base, k in checks if issubclass(cls, base)), _TEXT)


def _plan(xsi: str | None, declared: type) -> tuple[int, type]:
    if xsi is not None and xsi.endswith("ManagedObjectReference"):
        plan = (_REF, declared)
    else:
        cls = (_wsdl_type(xsi) if xsi else None) or declared
        plan = (_kind(cls), cls)
    _PLANS[(xsi, declared)] = plan
    return plan


def _one(element: Any, declared: type) -> Any:
    xsi = element.get(XSI_TYPE)
    kind, cls = _PLANS.get((xsi, declared)) or _plan(xsi, declared)
    if kind == _DATA:
        return RawObject(element, cls)
    if kind == _REF:
        return ManagedRef(element.text or "", element.get("type") or "")
    if kind == _LIST:  # an ArrayOfX value: one child element per item
        return [_one(child, cls.Item) for child in element]  # type: ignore[attr-defined]
    text = element.text or ""
    if kind == _BOOL:
        return text in ("true", "1")
    if kind == _INT:
        return int(text)
    if kind == _FLOAT:
        return float(text)
    return text  # strings, enums; dateTime and binary stay text (no record reads them)


def retrieve_raw(
    content: Any, obj_type: type, morefs: Iterable[str], paths: Iterable[str], page_size: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(moref, {path: value}) for the given objects, pages parsed from the raw SOAP body."""
    collector = content.propertyCollector
    stub = collector._stub
    objs = [PC.ObjectSpec(obj=obj_type(ref, stub), skip=False) for ref in morefs]
    if not objs:
        return
    spec = PC.FilterSpec(
        objectSet=objs, propSet=[PC.PropertySpec(type=obj_type, pathSet=sorted(set(paths)), all=False)]
    )
    method, args = "RetrievePropertiesEx", [[spec], PC.RetrieveOptions(maxObjects=page_size)]
    while True:
        token = None
        for element in stream_elements(collector, method, args, RESULT_CHILD_DEPTH):
            if element.tag == VIM + "token":
                token = element.text
            elif element.tag == VIM + "objects":
                yield _object_props(element)
        if not token:
            return
        method, args = "ContinueRetrievePropertiesEx", [token]


_OBJ, _PROP_SET, _NAME, _VAL = VIM + "obj", VIM + "propSet", VIM + "name", VIM + "val"


def _object_props(element: Any) -> tuple[str, dict[str, Any]]:
    """One ObjectContent: its moref and each propSet's value. The element is cleared by the
    caller's parser once this returns, so values must not outlive the mapping of this VM."""
    ref = ""
    props: dict[str, Any] = {}
    for child in element:
        if child.tag == _PROP_SET:
            name, val = "", None
            for part in child:  # <name> and <val>, in either order
                if part.tag == _NAME:
                    name = part.text or ""
                elif part.tag == _VAL:
                    val = part
            if val is not None:
                props[name] = _one(val, object)
        elif child.tag == _OBJ:
            ref = child.text or ""
    return ref, props
