"""The flags of the ``ftrlx`` command line that take most room: those of ``train``, and the reader flags
that ``train``, ``predict`` and ``evaluate`` share (:mod:`ftrlx.cli` builds the parser)."""

from ._cli_common import ALGOS, FORMATS
from ._cli_train import _floats, cmd_train


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


def _add_train(sub, kw):
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
    _add_model_options(p.add_argument_group("model"), p)
    g = p.add_argument_group("training")
    _add_schedule_options(g)
    _add_run_outputs(g)
    p.set_defaults(func=cmd_train)


def _add_model_options(g, p):
    """``ftrlx train``'s options of the estimator."""
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


def _add_schedule_options(g):
    """``ftrlx train``'s options of how it trains: threads, passes, rows, held-out chunks, early stop."""
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


def _add_run_outputs(g):
    """``ftrlx train``'s options of what a run writes besides the model: checkpoints, history, reports, maps."""
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
