"""``dataclass``, ``field`` and ``replace`` as :mod:`dataclasses` has them, made at a fraction of the cost.

Every command starts a new Python process, and ``rnnviz draw`` defines some forty
dataclasses (the syntax tree, the expressions, the model, the graph) before it draws
anything: :mod:`dataclasses` spent about 0.4 ms on each (five ``exec`` calls, a signature
for the docstring) and needs :mod:`inspect` (5 ms more) to be imported at all. This
module makes the same classes without importing :mod:`dataclasses`, and gives them the
same behaviour: ``__init__``, ``__repr__``, ``__eq__`` and ``__hash__`` are the functions
:mod:`dataclasses` writes, text for text, each compiled the first time the class is
looked up for it (most classes of a run are never compared, many never made); a frozen
class refuses assignment with :class:`dataclasses.FrozenInstanceError`; ``__match_args__``
is set. What only introspection needs is made when first asked for:
``__dataclass_fields__`` (so :func:`dataclasses.fields`, :func:`dataclasses.replace`,
:func:`dataclasses.asdict` and :func:`dataclasses.is_dataclass` work as before),
``__dataclass_params__``, and the signature docstring of a class without one.

Only the options rnnviz uses are handled here (``frozen``, and ``field`` with
``default``, ``default_factory``, ``init``, ``repr``, ``compare``, ``hash``, ``metadata``);
any other option, ``InitVar`` or ``KW_ONLY`` hands the class to :mod:`dataclasses` itself.
``tests/test_dataclasses_light.py`` holds both to the same behaviour.

Example:
    >>> from rnnviz._dataclasses import dataclass, field, replace
    >>> @dataclass(frozen=True)
    ... class Point:
    ...     x: int
    ...     y: int = 0
    ...     note: str = field(default="", compare=False, repr=False)
    >>> p = Point(1)
    >>> p, p == Point(1, note="other"), replace(p, y=2)
    (Point(x=1, y=0), True, Point(x=1, y=2))
    >>> p.x = 3
    Traceback (most recent call last):
    ...
    dataclasses.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import re
import sys
from reprlib import recursive_repr

__all__ = ["dataclass", "field", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING = _Missing()


class _HasDefaultFactory:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


#: As dataclasses' ``_HAS_DEFAULT_FACTORY``: the default of an ``__init__`` parameter
#: whose field has a factory (its repr is what the signature shows).
_HAS_DEFAULT_FACTORY = _HasDefaultFactory()


class _Field:
    """What :func:`field` asked for (dataclasses' ``Field`` is made from it when asked for)."""

    __slots__ = ("name", "type", "default", "default_factory", "init", "repr", "hash", "compare",
                 "metadata", "classvar")

    def __init__(self, default, default_factory, init, repr, hash, compare, metadata) -> None:
        self.name = None
        self.type = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.hash = hash
        self.compare = compare
        self.metadata = metadata
        self.classvar = False

    def __repr__(self) -> str:  # pragma: no cover - for debugging
        return f"_Field(name={self.name!r}, default={self.default!r})"


def field(*, default=_MISSING, default_factory=_MISSING, init=True, repr=True, hash=None, compare=True,
          metadata=None, kw_only=_MISSING):
    """As :func:`dataclasses.field` (``kw_only`` is not supported)."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    if kw_only is not _MISSING:
        raise TypeError("rnnviz._dataclasses.field does not support kw_only; use dataclasses")
    return _Field(default, default_factory, init, repr, hash, compare, metadata)


#: The classes made here -> their fields (name -> _Field, ClassVar pseudo-fields included).
_FIELDS_ATTR = "__rnnviz_fields__"
#: ``typing.ClassVar[...]`` written as a string annotation (``from __future__ import annotations``),
#: as dataclasses reads it; compiled only for an annotation that names one of them.
_MODULE_IDENTIFIER = r"^(?:\s*(\w+)\s*\.)?\s*(\w+)"


def _special(annotation, cls) -> str | None:
    """``"classvar"``, ``"other"`` (InitVar, KW_ONLY: left to dataclasses) or None for a field."""
    if isinstance(annotation, str):
        if "ClassVar" not in annotation and "InitVar" not in annotation and "KW_ONLY" not in annotation:
            return None
        match = re.match(_MODULE_IDENTIFIER, annotation)
        if not match:
            return None
        module_name, name = match.groups()
        if name not in ("ClassVar", "InitVar", "KW_ONLY"):
            return None
        namespace = getattr(sys.modules.get(cls.__module__), "__dict__", {})
        target = namespace.get(module_name) if module_name else namespace.get(name, _MISSING)
        if module_name:
            target = getattr(target, name, _MISSING) if target is not None else _MISSING
        typing, dataclasses = sys.modules.get("typing"), sys.modules.get("dataclasses")
        if typing is not None and target is typing.ClassVar:
            return "classvar"
        if dataclasses is not None and target in (dataclasses.InitVar, dataclasses.KW_ONLY):
            return "other"
        # Not resolvable in the module (dataclasses then treats it as a field, unless it is
        # one of its own names): be exact by handing the class over.
        return "other" if target is _MISSING else None
    typing = sys.modules.get("typing")
    if typing is not None and (annotation is typing.ClassVar or getattr(annotation, "__origin__", None)
                               is typing.ClassVar):
        return "classvar"
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is not None and (annotation is dataclasses.KW_ONLY or isinstance(annotation, dataclasses.InitVar)
                                    or annotation is dataclasses.InitVar):
        return "other"
    return None


def _is_real_field(value) -> bool:
    dataclasses = sys.modules.get("dataclasses")
    return dataclasses is not None and isinstance(value, dataclasses.Field)


class _Handover(Exception):
    """The class needs something only dataclasses does."""


def _base_fields(cls) -> tuple[dict[str, _Field], bool, bool]:
    fields: dict[str, _Field] = {}
    has_bases = any_frozen = False
    for base in cls.__mro__[-1:0:-1]:
        own = base.__dict__.get(_FIELDS_ATTR)
        if own is not None:
            has_bases = True
            fields.update(own)
            any_frozen = any_frozen or base.__dict__["__rnnviz_frozen__"]
        elif "__dataclass_fields__" in base.__dict__:
            raise _Handover  # a dataclasses dataclass as a base: let dataclasses combine them
    return fields, has_bases, any_frozen


def _own_fields(cls) -> dict[str, _Field]:
    annotations = cls.__dict__.get("__annotations__", {})
    out: dict[str, _Field] = {}
    for name, annotation in annotations.items():
        kind = _special(annotation, cls)
        if kind == "other":
            raise _Handover
        default = getattr(cls, name, _MISSING)
        if _is_real_field(default) or type(default).__name__ == "member_descriptor":
            raise _Handover
        if isinstance(default, _Field):
            f = default
        else:
            f = _Field(default, _MISSING, True, True, None, True, None)
        f.name, f.type = name, annotation
        if kind == "classvar":
            if f.default_factory is not _MISSING:
                raise TypeError(f"field {name} cannot have a default factory")
            f.classvar = True
        elif f.default_factory is _MISSING and f.default is not _MISSING and type(f.default).__hash__ is None:
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: "
                             "use default_factory")
        out[name] = f
    for name, value in cls.__dict__.items():
        if isinstance(value, _Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    return out


def _tuple(obj: str, names: list[str]) -> str:
    return "(" + "".join(f"{obj}.{n}," for n in names) + ")" if names else "()"


def _source(cls, name: str) -> tuple[str, dict]:
    """The text of dataclasses' method ``name`` for ``cls``, and the names it closes over."""
    fields = [f for f in cls.__dict__[_FIELDS_ATTR].values() if not f.classvar]
    if name == "__init__":
        self_name = "__dataclass_self__" if any(f.name == "self" for f in fields) else "self"
        local_vars = {f"_type_{f.name}": f.type for f in fields}
        local_vars.update({"MISSING": _MISSING, "_HAS_DEFAULT_FACTORY": _HAS_DEFAULT_FACTORY,
                           "__dataclass_builtins_object__": object, "_return_type": None})
        params, body = [self_name], []
        for f in fields:
            if f.init:
                if f.default is _MISSING and f.default_factory is _MISSING:
                    params.append(f"{f.name}:_type_{f.name}")
                elif f.default_factory is not _MISSING:
                    params.append(f"{f.name}:_type_{f.name}=_HAS_DEFAULT_FACTORY")
                else:
                    params.append(f"{f.name}:_type_{f.name}=_dflt_{f.name}")
            default_name = f"_dflt_{f.name}"
            if f.default_factory is not _MISSING:
                local_vars[default_name] = f.default_factory
                value = (f"{default_name}() if {f.name} is _HAS_DEFAULT_FACTORY else {f.name}" if f.init
                         else f"{default_name}()")
            elif f.init:
                if f.default is not _MISSING:
                    local_vars[default_name] = f.default
                value = f.name
            else:
                continue  # the class attribute holds the default
            if cls.__dict__["__rnnviz_frozen__"]:
                body.append(f"__dataclass_builtins_object__.__setattr__({self_name},{f.name!r},{value})")
            else:
                body.append(f"{self_name}.{f.name}={value}")
        if hasattr(cls, "__post_init__"):
            body.append(f"{self_name}.__post_init__()")
        return (f" def __init__({','.join(params)})->_return_type:\n"
                + "\n".join(f"  {b}" for b in body or ["pass"])), local_vars
    if name == "__repr__":
        shown = ", ".join(f"{f.name}={{self.{f.name}!r}}" for f in fields if f.repr)
        return f" def __repr__(self):\n  return self.__class__.__qualname__ + f\"({shown})\"", {}
    if name == "__eq__":
        compared = [f.name for f in fields if f.compare]
        return (" def __eq__(self,other):\n  if other.__class__ is self.__class__:\n"
                f"   return {_tuple('self', compared)}=={_tuple('other', compared)}\n  return NotImplemented"), {}
    assert name == "__hash__", name
    hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
    return f" def __hash__(self):\n  return hash({_tuple('self', hashed)})", {}


def _frozen(cls, fields: list[_Field]) -> dict:
    """A frozen class's ``__setattr__`` and ``__delattr__``, as dataclasses writes them (closures:
    they run only to refuse an assignment, so nothing is compiled for them)."""
    names = frozenset(f.name for f in fields)

    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise _FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise _FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    for fn in (__setattr__, __delattr__):
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
    return {"__setattr__": __setattr__, "__delattr__": __delattr__}


def _make(cls, name: str):
    """Compile dataclasses' method ``name`` of ``cls`` (in the class's module, as dataclasses does)."""
    text, local_vars = _source(cls, name)
    module = sys.modules.get(cls.__module__)
    source = f"def __create_fn__({', '.join(local_vars)}):\n{text}\n return {name}"
    namespace: dict = {}
    # dont_inherit: this module's `from __future__ import annotations` must not turn the
    # annotations of __init__ into the names of the variables that hold them.
    exec(compile(source, "<string>", "exec", dont_inherit=True), module.__dict__ if module else {}, namespace)
    fn = namespace["__create_fn__"](**local_vars)
    fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
    return recursive_repr()(fn) if name == "__repr__" else fn


class _LazyMethod:
    """A generated method of a class, compiled the first time it is looked up.

    Python looks a special method up on the class and calls the descriptor's ``__get__``
    (for an instance: ``type(x).__init__.__get__(x)``, likewise ``__eq__``, ``__hash__``,
    ``__repr__``, ``__setattr__``), so the function is made then and put in its place:
    from then on the class holds the plain function, as dataclasses leaves it. Most of
    the classes a command imports are never instantiated, or never compared.
    """

    __slots__ = ("cls", "name")

    def __init__(self, cls, name: str) -> None:
        self.cls, self.name = cls, name

    def __get__(self, obj, owner=None):
        fn = _make(self.cls, self.name)
        type.__setattr__(self.cls, self.name, fn)
        return fn if obj is None else fn.__get__(obj, owner)


def _FrozenInstanceError(message: str) -> Exception:
    """dataclasses' FrozenInstanceError (imported only when an assignment is refused)."""
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(message)


class _LazyFields:
    """``__dataclass_fields__``: dataclasses' Field objects, made on first access."""

    def __init__(self, cls) -> None:
        self.cls = cls

    def __get__(self, obj, owner=None):
        import dataclasses

        cls = self.cls
        kinds = {False: dataclasses._FIELD, True: dataclasses._FIELD_CLASSVAR}
        out = {}
        for name, f in cls.__dict__[_FIELDS_ATTR].items():
            real = dataclasses.field(default=f.default if f.default is not _MISSING else dataclasses.MISSING,
                                     default_factory=(f.default_factory if f.default_factory is not _MISSING
                                                      else dataclasses.MISSING),
                                     init=f.init, repr=f.repr, hash=f.hash, compare=f.compare, metadata=f.metadata)
            real.name, real.type, real._field_type = name, f.type, kinds[f.classvar]
            if hasattr(real, "kw_only"):
                real.kw_only = False
            out[name] = real
        type.__setattr__(cls, "__dataclass_fields__", out)
        return out


class _LazyParams:
    """``__dataclass_params__``, made on first access."""

    def __init__(self, cls) -> None:
        self.cls = cls

    def __get__(self, obj, owner=None):
        import dataclasses

        cls = self.cls
        wanted = dict(init=True, repr=True, eq=True, order=False, unsafe_hash=False,
                      frozen=cls.__dict__["__rnnviz_frozen__"], match_args=True, kw_only=False, slots=False,
                      weakref_slot=False)
        code = dataclasses._DataclassParams.__init__.__code__
        accepted = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
        params = dataclasses._DataclassParams(**{k: wanted[k] for k in accepted})
        type.__setattr__(cls, "__dataclass_params__", params)
        return params


class _LazyDoc:
    """The docstring dataclasses gives a class without one: its name and signature."""

    def __init__(self, cls) -> None:
        self.cls = cls

    def __get__(self, obj, owner=None):
        import inspect

        cls = self.cls
        try:
            text_sig = str(inspect.signature(cls)).replace(" -> None", "")
        except (TypeError, ValueError):
            text_sig = ""
        doc = cls.__name__ + text_sig
        type.__setattr__(cls, "__doc__", doc)
        return doc


def _process(cls, frozen: bool):
    try:
        fields, has_bases, any_frozen = _base_fields(cls)
        own = _own_fields(cls)
    except _Handover:
        import dataclasses

        return dataclasses.dataclass(cls, frozen=frozen)
    for f in own.values():
        fields[f.name] = f
        if isinstance(cls.__dict__.get(f.name), _Field):
            if f.default is _MISSING:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    if has_bases:
        if any_frozen and not frozen:
            raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
        if not any_frozen and frozen:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    type.__setattr__(cls, _FIELDS_ATTR, fields)
    type.__setattr__(cls, "__rnnviz_frozen__", frozen)
    type.__setattr__(cls, "__dataclass_fields__", _LazyFields(cls))
    type.__setattr__(cls, "__dataclass_params__", _LazyParams(cls))

    class_hash = cls.__dict__.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    real = [f for f in fields.values() if not f.classvar]
    want = {name: name not in cls.__dict__ for name in ("__init__", "__repr__", "__eq__")}
    # dataclasses' table for eq=True, unsafe_hash=False: frozen adds __hash__, else sets it to None;
    # a __hash__ of the class's own is kept either way.
    want["__hash__"] = frozen and not explicit_hash
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    seen_default = False  # the error dataclasses gives when the class is made
    for f in real:
        if f.init:
            if not (f.default is _MISSING and f.default_factory is _MISSING):
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
    for name, wanted in want.items():
        if wanted:
            type.__setattr__(cls, name, _LazyMethod(cls, name))
    if frozen:
        for name, fn in _frozen(cls, real).items():
            type.__setattr__(cls, name, fn)
    if not frozen and not explicit_hash:
        type.__setattr__(cls, "__hash__", None)
    if not getattr(cls, "__doc__"):
        type.__setattr__(cls, "__doc__", _LazyDoc(cls))
    if "__match_args__" not in cls.__dict__:
        type.__setattr__(cls, "__match_args__", tuple(f.name for f in real if f.init))
    if "__abstractmethods__" in cls.__dict__ or any(getattr(b, "__abstractmethods__", None) for b in cls.__mro__[1:]):
        import abc

        abc.update_abstractmethods(cls)
    return cls


def dataclass(cls=None, /, *, frozen: bool = False, **options):
    """As :func:`dataclasses.dataclass`; options other than ``frozen`` hand the class to it."""
    if options:
        import dataclasses

        return dataclasses.dataclass(cls, frozen=frozen, **options) if cls is not None else \
            dataclasses.dataclass(frozen=frozen, **options)

    def wrap(c):
        return _process(c, frozen)

    return wrap if cls is None else wrap(cls)


def replace(obj, /, **changes):
    """As :func:`dataclasses.replace`, without importing :mod:`dataclasses` for a class made here."""
    fields = getattr(type(obj), _FIELDS_ATTR, None)
    if fields is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)
    for f in fields.values():
        if f.classvar:
            continue
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)
