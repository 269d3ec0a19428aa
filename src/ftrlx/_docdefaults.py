"""Docstring defaults derived from signatures: the signature is the one place a default is written.

A parameter entry of a numpydoc ``Parameters`` section reads ``name : type, default=value``.  :func:`default_text`
reads the value an entry states, :func:`derive_defaults` rewrites a class's entries so that each states the
default of the class's signature (an entry whose stated value already equals it keeps its spelling, ``1e-5`` say),
and :func:`mismatched_defaults` lists the entries that disagree, for the tests.
"""

import inspect
import math
import re

import numpy as np

__all__ = ["derive_defaults", "documented_parameters", "mismatched_defaults"]

_SECTION = re.compile(r"^(?P<indent>[ ]*)Parameters\n(?P=indent)-{3,}\n", re.M)
_NAME = r"\*{0,2}[A-Za-z_]\w*"
_ENTRY = re.compile(rf"^(?P<indent>[ ]*)(?P<names>{_NAME}(?:, {_NAME})*)(?: : (?P<type>.*))?$")
_DEFAULT = re.compile(r"(?:,\s*)?default\s*=\s*(?P<value>.+?)\s*$")
_NAMES = {"np": np, "numpy": np, "inf": math.inf, "None": None, "True": True, "False": False}


def _section_lines(doc):
    """``(lines, first, last, indent)``: the docstring's lines and the span of its Parameters entries."""
    lines = doc.split("\n")
    match = _SECTION.search(doc)
    if match is None:
        return lines, 0, 0, ""
    indent = match.group("indent")
    first = doc[: match.end()].count("\n")
    last = first
    while last < len(lines):
        line = lines[last]
        stripped = line.strip()
        # the next section: a title line followed by its dashes
        if (
            stripped
            and last + 1 < len(lines)
            and set(lines[last + 1].strip()) == {"-"}
            and line.startswith(indent)
            and not line[len(indent) :].startswith(" ")
        ):
            break
        last += 1
    return lines, first, last, indent


def documented_parameters(doc):
    """``{name: (line index, type text)}`` of the entries of ``doc``'s Parameters section."""
    lines, first, last, indent = _section_lines(doc or "")
    found = {}
    for at in range(first, last):
        match = _ENTRY.match(lines[at])
        if match and match.group("indent") == indent:
            for name in match.group("names").split(", "):
                found[name.lstrip("*")] = (at, match.group("type") or "")
    return found


def _stated(type_text):
    """The default an entry's type text states, as a value, or ``(None, False)`` when it states none or one
    that is not a literal (a description such as ``2**20 columns``)."""
    match = _DEFAULT.search(type_text)
    if match is None:
        return None, False
    text = match.group("value").strip("`")
    try:
        return eval(text, {"__builtins__": {}}, _NAMES), True  # noqa: S307 - literals and numpy names only
    except Exception:  # noqa: BLE001 - prose, not a literal
        return text, True


def _number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _same(a, b):
    if _number(a) and _number(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    if _number(a) or _number(b):
        return False
    try:
        return a is b or (type(a) is type(b) and bool(a == b))
    except Exception:  # noqa: BLE001 - values that do not compare
        return False


def _render(value):
    if isinstance(value, float) and math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    if isinstance(value, type):
        return f"np.{value.__name__}" if value.__module__ == "numpy" else value.__name__
    return repr(value)


def _signature_defaults(obj):
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):  # a class whose constructor has no inspectable signature
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def mismatched_defaults(obj):
    """``[(name, stated, signature default)]`` for each default that ``obj``'s docstring (a class's or a
    function's) states and that differs from its signature's."""
    out = []
    entries = documented_parameters(inspect.getdoc(obj))
    for name, default in _signature_defaults(obj).items():
        if name in entries:
            stated, states = _stated(entries[name][1])
            if states and not _same(stated, default):
                out.append((name, stated, default))
    return out


def derive_defaults(cls):
    """Rewrite ``cls.__doc__`` so that every documented parameter states its signature default."""
    lines = cls.__doc__.split("\n")
    # one parse: a rewritten entry stays one line, so the others keep their places
    entries = documented_parameters(cls.__doc__)
    for name, default in _signature_defaults(cls).items():
        entry = entries.get(name)
        if entry is None:
            continue
        at, type_text = entry
        if ", " in lines[at][: len(lines[at]) - len(type_text)]:
            continue  # one entry for several parameters states no single default
        stated, states = _stated(type_text)
        if states and _same(stated, default):
            continue
        bare = _DEFAULT.sub("", type_text).rstrip(", ")
        lines[at] = lines[at][: len(lines[at]) - len(type_text)] + f"{bare}, default={_render(default)}"
    cls.__doc__ = "\n".join(lines)
    return cls
