"""Sphinx helpers of the ftrlx documentation.

* ``autodoc-skip-member``: the estimators inherit from scikit-learn's base classes; their methods that scikit-learn
  defines (``get_params``, ``score``, the metadata-routing setters, ...) are documented by scikit-learn, and their
  docstrings point into scikit-learn's own documentation, so they are left out here.  Members defined by ftrlx,
  inherited ones included, are kept.
* ``autodoc-process-docstring``: docstrings write an absolute value as plain text, ``|x|``, which
  reStructuredText would read as a substitution reference; such bars are escaped outside inline literals, doctest
  blocks and literal blocks, so that the docstrings stay readable in ``help()`` and still build here.
* ``.. ftrlx-cli-help::``: the ``--help`` text of the ``ftrlx`` command and of each of its sub-commands, taken
  from :func:`ftrlx.cli.build_parser` when the documentation is built, so that the page cannot drift from the code.
"""

import argparse
import re

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def _defining_module(obj):
    """The module that defines a class member, looking through properties and descriptors.

    Methods of built-in types (``list.append`` for :class:`ftrlx.stream.History`, ``BaseException.add_note``) have
    no ``__module__``; the class that owns them does.
    """
    for candidate in (
        obj,
        getattr(obj, "fget", None),
        getattr(obj, "__func__", None),
        getattr(obj, "__objclass__", None),
    ):
        module = getattr(candidate, "__module__", None)
        if isinstance(module, str):
            return module
    return None


def skip_foreign_member(app, what, name, obj, skip, options):
    """Skip class members that come from outside ftrlx (scikit-learn's base classes)."""
    if skip or what not in ("class", "exception"):
        return None
    module = _defining_module(obj)
    if module is not None and not module.startswith("ftrlx"):
        return True
    return None


# |expr| with no blank just inside the bars and no word character or backquote just outside them
_ABS_BARS = re.compile(r"(?<![\w|`\\])\|(?=[^\s|])([^|`]*?[^\s|\\])\|(?![\w|`])")
_INLINE_LITERAL = re.compile(r"``.*?``")


def _escape_bars(line):
    """Escape the absolute-value bars of one line of prose, leaving its inline literals alone."""
    out, last = [], 0
    for literal in _INLINE_LITERAL.finditer(line):
        out.append(_ABS_BARS.sub(r"\\|\1\\|", line[last : literal.start()]))
        out.append(literal.group())
        last = literal.end()
    out.append(_ABS_BARS.sub(r"\\|\1\\|", line[last:]))
    return "".join(out)


def _indent(line):
    return len(line) - len(line.lstrip())


def escape_absolute_values(app, what, name, obj, options, lines):
    """Escape ``|x|`` in the prose of a docstring (see the module docstring)."""
    literal_indent = None  # indentation of the paragraph that opened a literal block with "::"
    in_doctest = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            in_doctest = False
            continue
        if literal_indent is not None:
            if _indent(line) > literal_indent:
                continue
            literal_indent = None
        if in_doctest or stripped.startswith(">>>"):
            in_doctest = True
            continue
        lines[i] = _escape_bars(line)
        if stripped.endswith("::"):
            literal_indent = _indent(line)


def _subcommands(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def _help_rst(parser, underline):
    """reStructuredText for the help of every sub-command of ``parser``, one section each."""
    lines = []
    for name, sub in _subcommands(parser):
        title = f"ftrlx {name}"
        lines += [f".. _cli-{name}:", "", title, underline * len(title), "", ".. code-block:: text", ""]
        lines += ["   " + line if line else "" for line in sub.format_help().rstrip().splitlines()]
        lines.append("")
    return lines


class CliHelp(SphinxDirective):
    """Insert ``ftrlx --help`` as a literal block, then one section per sub-command with its ``--help``.

    Option ``:underline:`` is the character of the sub-command section titles (default ``-``).
    """

    has_content = False
    option_spec = {"underline": directives.unchanged}

    def run(self):
        from ftrlx.cli import build_parser

        parser = build_parser()
        self.env.note_reread()  # the help texts come from code, not from the page's source
        lines = [".. code-block:: text", ""]
        lines += ["   " + line if line else "" for line in parser.format_help().rstrip().splitlines()]
        lines.append("")
        lines += _help_rst(parser, self.options.get("underline", "-"))
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source="ftrlx.cli.build_parser"), container)
        return container.children


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_member)
    app.connect("autodoc-process-docstring", escape_absolute_values)
    app.add_directive("ftrlx-cli-help", CliHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
