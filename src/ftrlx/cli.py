"""The ``ftrlx`` command line: train, predict, evaluate, info and demo.

Run ``ftrlx --help`` (or ``python -m ftrlx --help``) for the commands and
``ftrlx COMMAND --help`` for their options.  :func:`main` is the entry point
and returns the exit status instead of exiting, so it can be called from
Python.

Examples
--------
>>> from ftrlx.cli import build_parser
>>> args = build_parser().parse_args(["train", "clicks.svm", "--l1", "2", "-o", "m.ftrlx"])
>>> args.command, args.algo, args.l1, args.output
('train', 'ftrl', 2.0, 'm.ftrlx')
"""

import argparse
import os
import re
import sys
import traceback

from ._cli_common import (  # noqa: F401 - the names the command line is made of
    _PARAM_FLAGS,
    ALGOS,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    FORMATS,
    STDIN,
    UsageError,
)
from ._cli_flags import _add_reader_options, _add_train
from ._cli_info import cmd_demo, cmd_info
from ._cli_predict import cmd_predict
from ._cli_score import cmd_evaluate
from ._cli_train import _floats, cmd_train  # noqa: F401 - importable from here, as the other commands

EPILOG = """\
exit status:
  0    success
  1    runtime or data error (one line on stderr; add --debug for the traceback)
  2    usage error (bad command line)
  130  interrupted by Ctrl-C (training writes its checkpoint first; rerun with --resume)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: error: {message}")


# --------------------------------------------------------------------------
# parser


def _common_options(p, default):
    p.add_argument("--debug", action="store_true", default=default, help="show the full traceback on errors")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="no progress bar, progress table or summary on stderr",
    )
    return p


def build_parser():
    """The argparse parser of the ``ftrlx`` command."""
    common = _common_options(argparse.ArgumentParser(add_help=False), default=False)
    # the same options after the command; SUPPRESS keeps a command's default from overwriting a global -q
    after = _common_options(argparse.ArgumentParser(add_help=False), default=argparse.SUPPRESS)

    from ftrlx import __version__

    parser = _Parser(
        prog="ftrlx",
        parents=[common],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fast sparse online learning: train, evaluate and serve linear "
        "click-through models on streams larger than memory.",
    )
    parser.add_argument("--version", action="version", version=f"ftrlx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    kw = {"parents": [after], "epilog": EPILOG, "formatter_class": argparse.RawDescriptionHelpFormatter}

    for add in (_add_train, _add_predict, _add_evaluate, _add_info, _add_demo):
        add(sub, kw)
    return parser


def _add_model_on_input(sub, kw, name, func, flags, flag_options, **parser_options):
    """A command that reads MODEL and INPUT (predict, evaluate): its one own flag, then the reader options."""
    p = sub.add_parser(name, **parser_options, **kw)
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT")
    p.add_argument(*flags, **flag_options)
    _add_reader_options(p, defaults_from_model=True)
    p.set_defaults(func=func)


def _add_predict(sub, kw):
    _add_model_on_input(
        sub,
        kw,
        "predict",
        cmd_predict,
        ("-o", "--output"),
        {"default": "-", "metavar": "OUT", "help": "output file (default: standard output)"},
        help="write predicted probabilities, one per line",
        description="Score INPUT with MODEL: the positive-class probability "
        "(decision value for non-probabilistic losses), one per line.",
    )


def _add_evaluate(sub, kw):
    _add_model_on_input(
        sub,
        kw,
        "evaluate",
        cmd_evaluate,
        ("--json",),
        {"action": "store_true", "help": "print one JSON object"},
        help="log loss, AUC and accuracy of a model on a file",
        description="Evaluate MODEL on the labelled INPUT.",
    )


def _add_info(sub, kw):
    p = sub.add_parser(
        "info",
        help="describe a model file",
        **kw,
        description="Show class, parameters, size, sparsity and provenance of a model file.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--top",
        type=int,
        metavar="N",
        help="print the N largest |weights| instead, one per line: rank, weight and the feature as "
        "field=value (a cross as a=x ^ b=y), from the inverse map that ftrlx train keeps of the "
        "values it sampled (--invert-rows); #COLUMN for a column outside it (svmlight: the index)",
    )
    p.set_defaults(func=cmd_info)


def _add_demo(sub, kw):
    p = sub.add_parser(
        "demo",
        help="train FTRL on a generated click log and plot it",
        **kw,
        description="Generate a synthetic click log as a stream, train "
        "FTRL-Proximal with progressive validation, print the "
        "metrics and sparsity, and plot them.",
    )
    p.add_argument("--rows", type=int, default=1_000_000, help="rows to generate (default: 1000000)")
    p.add_argument("--chunk-size", type=int, default=20_000, help="rows per chunk (default: 20000)")
    p.add_argument("--bits", type=int, default=20, help="hash space 2**BITS (default: 20)")
    p.add_argument("--alpha", type=float, default=0.1, help="FTRL alpha (default: 0.1)")
    p.add_argument("--l1", type=float, default=1.0, help="FTRL l1 (default: 1.0)")
    p.add_argument("--holdout-every", type=int, metavar="K", help="hold out every K-th chunk")
    p.add_argument("--seed", type=int, default=0, help="data and model seed (default: 0)")
    p.add_argument(
        "--plot",
        default="ftrlx-demo.png",
        metavar="PNG",
        help="picture of log loss and non-zeros (default: ftrlx-demo.png)",
    )
    p.add_argument("--no-plot", action="store_true", help="do not draw the picture")
    p.add_argument("-o", "--output", metavar="MODEL", help="also save the model")
    p.set_defaults(func=cmd_demo)


def main(argv=None):
    """Run the ``ftrlx`` command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on a runtime or data error, 2 on a usage error,
        130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.func(args)
    except UsageError as exc:
        text = _cli_remedies(str(exc))
        print(text if text.startswith("ftrlx") else f"ftrlx: error: {text}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        if debug:
            traceback.print_exc()
        message = str(exc) or "interrupted"
        print(f"ftrlx: {message}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (``ftrlx predict ... | head``): that is its choice, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into a status
        if debug:
            traceback.print_exc()
        text = _cli_remedies(" ".join(str(exc).split()) or type(exc).__name__)
        print(f"ftrlx: error: {text}", file=sys.stderr)
        return EXIT_ERROR


# The library's remedies name Python arguments; on the command line the user needs the flags.
_REMEDIES = (
    (re.compile(r"on_bad_lines='skip'"), "--on-bad-lines skip"),
    (
        re.compile(r"pass binary=False to keep labels as written"),
        "the command line trains binary classifiers on labels -1/0/+1",
    ),
    (
        re.compile(r"pass a larger n_features( or fold=True)?"),
        "train with --bits B to fold every index into 2**B columns",
    ),
    (re.compile(r"pass zero_based=True"), "pass --zero-based if the file's indices start at 0"),
    (re.compile(r"pass the stream's two labels as classes="), "train on 0/1 labels"),
    (re.compile(r"parallel='(\w+)'"), r"--parallel \1"),
    (re.compile(r"\bn_jobs=1\b"), "--jobs 1"),
)
# Parameters whose flag is not their name with dashes.
_FLAG_NAMES = {"n_jobs": "--jobs", "parallel": "--parallel", "random_state": "--seed"}
_SET_PARAMS = re.compile(r"Fix it with set_params\((\w+)=\.\.\.\) or in the constructor\.")


def _cli_remedies(text):
    for pattern, flag in _REMEDIES:
        text = pattern.sub(flag, text)

    def flag_for(match):
        name = match.group(1)
        if name in _FLAG_NAMES:
            return f"Fix it with {_FLAG_NAMES[name]}."
        if name in _PARAM_FLAGS:
            return f"Fix it with --{name.replace('_', '-')}."
        return f"Fix it with --param {name}=VALUE."

    return _SET_PARAMS.sub(flag_for, text)


def run_process(argv=None):
    """:func:`main` as the whole of a process (the ``ftrlx`` command, ``python -m ftrlx``).

    The cyclic garbage collector stays off: start-up imports some 10^5 long-lived objects that it would
    traverse again and again, and the commands' loops create no reference cycles. The objects are frozen before
    the process exits, so that the interpreter's last collections skip them too (together about a third of a
    second of a short run).
    """
    import gc

    gc.disable()
    try:
        return main(argv)
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_process())
