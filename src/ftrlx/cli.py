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
from ._cli_info import cmd_demo, cmd_info
from ._cli_predict import cmd_predict
from ._cli_score import cmd_evaluate
from ._cli_train import _floats, cmd_train

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


def _add_reader_options(p, defaults_from_model=False):
    note = " (default: as recorded in the model)" if defaults_from_model else ""
    g = p.add_argument_group("input")
    g.add_argument(
        "--format",
        choices=FORMATS,
        help="input format (default: "
        + (
            "as recorded in the model)" if defaults_from_model else "from the file name; a .tsv of 40 fields is criteo)"
        ),
    )
    g.add_argument("--label", help=f"label column (csv, parquet){note}")
    g.add_argument(
        "--categorical", metavar="COLS", help=f"comma-separated categorical columns to hash (csv, parquet){note}"
    )
    g.add_argument("--numeric", metavar="COLS", help=f"comma-separated numeric columns (csv, parquet){note}")
    g.add_argument("--sep", help="csv field separator (default: tab for .tsv/.tab files, comma otherwise)")
    g.add_argument(
        "--ignore",
        metavar="COLS",
        help=f"comma-separated columns that are not features, e.g. ids or leaking columns (csv, parquet){note}",
    )
    g.add_argument(
        "--keep",
        metavar="FIELDS",
        help="comma-separated fields that are the only features, the complement of --ignore (csv, "
        "parquet: columns, those of --numeric parsed as numbers, the others hashed as categories; "
        f"criteo: of I1..I13, C1..C26){note}",
    )
    g.add_argument(
        "--id",
        metavar="COLUMN",
        help="a column that names each row, never a feature: predict writes it beside each prediction "
        "(csv, parquet, avazu: a column name; criteo: each line starts with an extra field, "
        f"named COLUMN in the output){note}",
    )
    z = g.add_mutually_exclusive_group()
    z.add_argument(
        "--zero-based",
        dest="zero_based",
        action="store_const",
        const=True,
        help="svmlight indices start at 0"
        + (note or " (default: decided from the first block of the first input, then recorded in the model)"),
    )
    z.add_argument(
        "--one-based", dest="zero_based", action="store_const", const=False, help="svmlight indices start at 1"
    )
    g.add_argument(
        "--on-bad-lines",
        choices=("error", "skip"),
        help="what to do with malformed lines (default: error; predict writes nan for a skipped line)",
    )
    g.add_argument("--chunk-size", type=int, default=100_000, metavar="N", help="rows per chunk (default: 100000)")


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

    p = sub.add_parser(
        "train",
        help="train a model on one or more files",
        **kw,
        description="Train a classifier on a stream of files with progressive "
        "validation, checkpoints and resume.  While it runs, stderr shows a "
        "progress bar and, as Vowpal Wabbit does, a table line at 1000, 2000, 4000, ... "
        "trained rows (at most one per chunk): rows, progressive log loss since the "
        "start and since the last line, AUC, non-zero weights where counted "
        "(--nnz-every, the end), rows/s.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="training file(s), read in order")
    p.add_argument(
        "-o", "--output", default="model.ftrlx", metavar="MODEL", help="model file to write (default: model.ftrlx)"
    )
    _add_reader_options(p)
    p.add_argument(
        "--bits",
        type=int,
        default=None,
        help="hash into 2**BITS features (default: 2**20); svmlight indices beyond 2**BITS fold into it "
        "(index modulo 2**BITS), wherever they come in the stream",
    )
    p.add_argument(
        "--interactions",
        action="append",
        metavar="A,B",
        help="cross fields A and B (repeatable): each row with both gets one feature per value pair, "
        "e.g. --interactions C1,C2 for a Criteo log (VW input: namespace letters, --interactions u,a "
        "is VW's -q ua; ftrlx's -q is --quiet); recorded in the model, so predict crosses the same way",
    )
    g = p.add_argument_group("model")
    g.add_argument("--algo", choices=sorted(ALGOS), default="ftrl", help="learner (default: ftrl)")
    g.add_argument("--loss", help="loss (default: log_loss)")
    for name in ("alpha", "beta", "l1", "l2", "eta0", "gamma", "rho"):
        if name == "l1" and p.prog.endswith("train"):
            g.add_argument(
                "--l1",
                type=_floats,
                metavar="L1[,L1...]",
                help="l1 hyper-parameter; several values train one model each in one pass and write "
                "their sparsity/accuracy frontier (MODEL.frontier.csv/.png), saving the one --select "
                "picks",
            )
            continue
        g.add_argument(f"--{name}", type=float, help=f"{name} hyper-parameter of the learner")
    if p.prog.endswith("train"):
        g.add_argument(
            "--select",
            choices=("sparsest", "best"),
            default="sparsest",
            help="with several --l1 values: the fewest weights within --select-tolerance of the best "
            "progressive log loss (sparsest, the default), or the best log loss",
        )
        g.add_argument(
            "--select-tolerance",
            type=float,
            default=0.01,
            metavar="FRACTION",
            help="relative log-loss tolerance of --select sparsest (default: 0.01)",
        )
    g.add_argument("--learning-rate", dest="learning_rate", help="learning-rate schedule")
    g.add_argument("--param", action="append", metavar="NAME=VALUE", help="any other estimator parameter (repeatable)")
    g.add_argument("--seed", type=int, help="random_state of the estimator")
    g.add_argument(
        "--class-weight", dest="class_weight", metavar="LABEL:W,...", help="weight of each class's rows, e.g. 0:1,1:5"
    )
    g.add_argument(
        "--weight",
        metavar="COLUMN",
        help="a column of importance weights (csv, parquet), as VW's importance weight: each row's "
        "gradient is scaled by its weight (and by --class-weight's weight of its class); never a "
        "feature; an empty, negative or non-finite weight is a bad line (--on-bad-lines); recorded "
        "in the model, predict and evaluate leave the column out",
    )
    g = p.add_argument_group("training")
    g.add_argument(
        "--jobs", type=int, metavar="N", help="threads that train (default: 1); -1 every core, -2 all but one, ..."
    )
    g.add_argument(
        "--parallel",
        choices=("outputs", "hogwild", "deterministic"),
        help="what the --jobs threads share (default: outputs): outputs = the classes of a multiclass "
        "model, bitwise the model of --jobs 1 (a binary model then uses one thread); hogwild = the "
        "rows of each chunk, unlocked (fastest, not reproducible); deterministic = the rows in "
        "rounds merged in a fixed order (the same model run after run for the same N)",
    )
    g.add_argument(
        "--passes",
        "--epochs",
        dest="epochs",
        type=int,
        default=1,
        metavar="N",
        help="passes over the input (default: 1); standard input or a pipe is copied to a temporary "
        "file to be read again",
    )
    g.add_argument("--max-rows", type=int, metavar="N", help="stop after N rows (over all passes)")
    g.add_argument(
        "--holdout-every",
        type=int,
        metavar="K",
        help="score every K-th chunk of each pass without training on it (the same rows every pass)",
    )
    g.add_argument(
        "--early-stop",
        type=int,
        metavar="N",
        dest="early_stop",
        help="with --passes and --holdout-every: stop at the end of a pass when the held-out log loss has "
        "not improved for N passes; the model written is the last pass's, not the best pass's (as "
        "VW's --early_terminate)",
    )
    g.add_argument("--checkpoint", metavar="PATH", help="checkpoint file")
    g.add_argument("--checkpoint-every", type=int, metavar="N", help="write the checkpoint every N trained rows")
    g.add_argument(
        "--resume", action="store_true", help="continue from --checkpoint if it exists (same inputs and options)"
    )
    g.add_argument(
        "--history",
        metavar="CSV",
        help="write per-chunk metrics as CSV (every number of the progress table can be derived from it)",
    )
    g.add_argument(
        "--nnz-every",
        type=int,
        metavar="N",
        dest="nnz_every",
        help="count the non-zero weights every N rows (default: only at the end)",
    )
    g.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary on stdout (rows, seconds, progressive metrics, non-zeros, and the "
        'lines of the progress table as "progress") instead of the progress table on stderr',
    )
    g.add_argument(
        "--invert-rows",
        type=int,
        default=None,
        metavar="N",
        dest="invert_rows",
        help="rows of the first input read before training to map hashed columns back to field=value "
        "for `ftrlx info --top` (default: 0, no map; 20000 is a good sample; criteo, avazu, csv, parquet; not for "
        "standard input read once); the model keeps the columns with a non-zero weight, at most "
        "65536, each with the first value seen there",
    )
    g.add_argument("--sparse-output", metavar="PATH", help="also export the non-zero weights for serving")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "predict",
        help="write predicted probabilities, one per line",
        **kw,
        description="Score INPUT with MODEL: the positive-class probability "
        "(decision value for non-probabilistic losses), one per line.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", default="-", metavar="OUT", help="output file (default: standard output)")
    _add_reader_options(p, defaults_from_model=True)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "evaluate",
        help="log loss, AUC and accuracy of a model on a file",
        **kw,
        description="Evaluate MODEL on the labelled INPUT.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_reader_options(p, defaults_from_model=True)
    p.set_defaults(func=cmd_evaluate)

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
    return parser


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


def _entry():
    sys.exit(run_process())


if __name__ == "__main__":  # pragma: no cover
    _entry()
