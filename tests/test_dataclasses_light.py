"""rnnviz._dataclasses makes classes that behave as dataclasses makes them.

Each case is one class body, made once by :func:`dataclasses.dataclass` and once by
:func:`rnnviz._dataclasses.dataclass` (each in a module of its own, with string
annotations as rnnviz writes them), and the two are compared on everything a caller
can see: construction and its errors, repr, equality, hash, assignment to a frozen
instance, the signature and docstring, ``__match_args__``, ``dataclasses.fields``,
``replace``, ``asdict``, ``astuple``, pickling and copying.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import sys
import textwrap
import types

import pytest

from rnnviz import _dataclasses as light

HEADER = """\
from __future__ import annotations
from typing import ClassVar
"""

CASES = {
    "plain": ("""
@dataclass(frozen=True)
class C:
    a: int
    b: str
""", [((1, "x"), {}), ((), {"a": 2, "b": "y"}), ((1, "x"), {}), ((1, "z"), {})]),
    "defaults and uncompared fields": ("""
@dataclass(frozen=True)
class C:
    '''Has a docstring.'''
    a: int
    b: tuple = ()
    span: object = field(default=None, compare=False, repr=False)
    glued: bool = field(default=False, compare=False)
""", [((1,), {}), ((1, (2,)), {"span": "s"}), ((1,), {"span": "other", "glued": True}), ((3,), {})]),
    "no docstring": ("""
@dataclass(frozen=True)
class C:
    value: float
    span: object = field(default=None, compare=False, repr=False)
""", [((1.5,), {}), ((1.5,), {"span": 1}), ((float("nan"),), {})]),
    "factories, init=False, ClassVar": ("""
@dataclass
class C:
    a: int
    items: list = field(default_factory=list)
    table: dict = field(default_factory=dict, repr=False)
    renderer: ClassVar[object] = None
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
""", [((1,), {}), ((1, [2]), {}), ((1,), {"table": {"k": 1}}), ((2,), {})]),
    "post_init": ("""
@dataclass
class C:
    text: str
    notes: list = field(default_factory=list)

    def __post_init__(self):
        self._length = len(self.text)
""", [(("abc",), {}), (("abc",), {"notes": [1]}), (("",), {})]),
    "own methods kept": ("""
@dataclass(frozen=True)
class C:
    a: int
    b: int = 0

    def __repr__(self):
        return f"C<{self.a}>"

    def __eq__(self, other):
        return isinstance(other, C) and self.a == other.a

    def __hash__(self):
        return self.a
""", [((1,), {}), ((1, 2), {}), ((2,), {})]),
    "nothing compared": ("""
@dataclass(frozen=True)
class C:
    a: int = field(default=0, compare=False)
""", [((), {}), ((1,), {})]),
    "a field named self": ("""
@dataclass(frozen=True)
class C:
    self: int
    other: int = 1
""", [((1,), {}), ((), {"self": 2, "other": 3})]),
    "inheritance": ("""
@dataclass(frozen=True)
class Base:
    a: int
    span: object = field(default=None, compare=False, repr=False)

@dataclass(frozen=True)
class C(Base):
    b: str = "b"
""", [((1,), {}), ((1, None, "c"), {}), ((), {"a": 1, "b": "b", "span": 3})]),
    "a plain base with annotations": ("""
class Node:
    span: object

@dataclass(frozen=True)
class C(Node):
    operand: object
    span: object = field(default=None, compare=False, repr=False)
""", [((1,), {}), ((1,), {"span": 2})]),
    "mutable class": ("""
@dataclass
class C:
    a: int
    b: list = field(default_factory=list)
""", [((1,), {}), ((1, [1]), {})]),
}


def make(source: str, decorator, tag: str):
    """The last class the source defines, made with ``decorator`` in a module of its own."""
    name = f"_dataclass_case_{tag}_{abs(hash(source))}"
    module = types.ModuleType(name)
    module.dataclass = decorator
    module.field = dataclasses.field if decorator is dataclasses.dataclass else light.field
    sys.modules[name] = module
    exec(compile(HEADER + textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
    module.__dict__.setdefault("__annotations__", {})
    classes = [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == name]
    cls = classes[-1]
    setattr(module, cls.__name__, cls)
    return cls


def outcome(fn):
    """What calling ``fn`` gives: ("ok", value) or ("raises", type, message)."""
    try:
        return ("ok", fn())
    except Exception as err:  # noqa: BLE001 - compared, not swallowed
        return ("raises", type(err), str(err).replace("_dataclass_case_real", "X").replace("_dataclass_case_light", "X"))


def field_view(cls) -> list[tuple]:
    return [(f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.hash, f.compare, dict(f.metadata),
             f._field_type) for f in cls.__dataclass_fields__.values()]


def _plain(value):
    """A value with the names of the two generated modules made the same."""
    return value.replace("_dataclass_case_real", "X").replace("_dataclass_case_light", "X") if isinstance(value, str) \
        else value


@pytest.mark.parametrize("case", list(CASES))
def test_same_behaviour_as_dataclasses(case):
    source, calls = CASES[case]
    real, ours = make(source, dataclasses.dataclass, "real"), make(source, light.dataclass, "light")
    assert "__rnnviz_fields__" in vars(ours)

    assert str(inspect.signature(ours)) == str(inspect.signature(real))
    assert ours.__doc__ == real.__doc__
    assert ours.__match_args__ == real.__match_args__
    assert field_view(ours) == field_view(real)
    assert [f.name for f in dataclasses.fields(ours)] == [f.name for f in dataclasses.fields(real)]
    assert dataclasses.is_dataclass(ours) and (ours.__hash__ is None) == (real.__hash__ is None)
    assert ours.__dataclass_params__.frozen == real.__dataclass_params__.frozen
    assert {k: v for k, v in vars(ours).items() if not k.startswith("__")} .keys() == \
        {k: v for k, v in vars(real).items() if not k.startswith("__")}.keys()
    for name in vars(real):
        if not name.startswith("__") and not callable(vars(real)[name]):
            assert getattr(ours, name) == getattr(real, name), name

    made = {}
    for kind, cls in (("real", real), ("ours", ours)):
        made[kind] = [cls(*args, **kwargs) for args, kwargs in calls]
    for a, b in zip(made["real"], made["ours"]):
        assert repr(a) == repr(b)
        assert vars(a) == vars(b)
        assert outcome(lambda: hash(a)) == outcome(lambda: hash(b))
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        assert dataclasses.astuple(a) == dataclasses.astuple(b)
        for other_a, other_b in zip(made["real"], made["ours"]):
            assert (a == other_a) == (b == other_b)
            assert (a != other_a) == (b != other_b)
        assert (a == 1) == (b == 1)
        assert repr(copy.deepcopy(b)) == repr(b) == repr(copy.copy(b))
        assert repr(pickle.loads(pickle.dumps(b))) == repr(b) and vars(pickle.loads(pickle.dumps(b))).keys() == vars(b).keys()
        init_fields = [f.name for f in dataclasses.fields(real) if f.init]
        if init_fields:
            change = {init_fields[0]: 7}
            want = _plain(outcome(lambda: repr(dataclasses.replace(a, **change))))
            assert _plain(outcome(lambda: repr(light.replace(b, **change)))) == want
            assert _plain(outcome(lambda: repr(dataclasses.replace(b, **change)))) == want
        assert _plain(outcome(lambda: repr(dataclasses.replace(a, zzz=1)))) == \
            _plain(outcome(lambda: repr(light.replace(b, zzz=1))))
    for args, kwargs in calls:  # last: on a mutable class these change the instances
        a, b = real(*args, **kwargs), ours(*args, **kwargs)
        for attr in ("a", "b", "text", "zzz"):
            assert _plain(outcome(lambda: setattr(a, attr, 5))) == _plain(outcome(lambda: setattr(b, attr, 5)))
            assert _plain(outcome(lambda: delattr(a, attr))) == _plain(outcome(lambda: delattr(b, attr)))
            assert vars(a) == vars(b)
    assert outcome(lambda: real())[0] == outcome(lambda: ours())[0]
    assert _plain(outcome(lambda: real(*range(9)))) == _plain(outcome(lambda: ours(*range(9))))


ERRORS = {
    "mutable default": """
@dataclass
class C:
    a: list = []
""",
    "non-default after default": """
@dataclass
class C:
    a: int = 0
    b: int
""",
    "field without annotation": """
@dataclass
class C:
    a: int
    b = field(default=1)
""",
    "frozen from non-frozen": """
@dataclass
class Base:
    a: int

@dataclass(frozen=True)
class C(Base):
    b: int = 0
""",
    "own __setattr__ on a frozen class": """
@dataclass(frozen=True)
class C:
    a: int

    def __setattr__(self, name, value):
        pass
""",
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_same_errors_as_dataclasses(case):
    real = outcome(lambda: make(ERRORS[case], dataclasses.dataclass, "real"))
    ours = outcome(lambda: make(ERRORS[case], light.dataclass, "light"))
    assert real[0] == "raises"
    assert ours[:2] == real[:2] and _plain(ours[2]) == _plain(real[2])


def test_options_it_does_not_handle_go_to_dataclasses():
    """order=True (or any other option) is dataclasses' own work."""
    cls = make("""
@dataclass(order=True, frozen=True)
class C:
    a: int
""", light.dataclass, "light")
    assert "__rnnviz_fields__" not in vars(cls) and cls(1) < cls(2)


def test_a_frozen_instance_refuses_assignment_with_dataclasses_error():
    cls = make(CASES["plain"][0], light.dataclass, "light")
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
        cls(1, "x").a = 2

