"""Learner adapters for the benchmarks in bench/.

Every learner is driven through the same five steps, so that the harness can
time and measure all of them the same way:

``prepare(data)``
    Build the input representation the library takes (CSR chunks, Vowpal
    Wabbit text lines, a datatable Frame, river dicts).  Not timed; counted as
    data, not as the learner's memory.
``warm_up(inputs)``
    Train a throw-away model on a few rows, so that imports, first-call and
    allocator effects are paid before the timed pass.
``train(inputs)``
    The timed single pass over the training rows.  Returns the model.
``predict_proba(model, inputs)``
    Probability of the positive class for every test row (float64).
``n_nonzero(model)``
    Non-zero weights of the trained model.

The third-party libraries are imported inside these methods only, so a parent
process that forks one child per learner never loads them itself, and a
missing library only removes its own rows (see ``available``).
"""

import importlib.util
import os
import re
import string
import tempfile
import warnings

import numpy as np

WARM_UP_ROWS = 2_000
# The warm-up model is this narrow, so that freeing it leaves no full-size
# allocation behind for the timed model to reuse (that would hide both its
# page faults and its memory).
WARM_UP_BITS = 16

# FTRL-Proximal hyper-parameters shared by ftrlx, datatable, Vowpal Wabbit and
# river, in the paper's convention (quadratic term (beta + sqrt(n))/alpha + l2).
FTRL_PARAMS = dict(alpha=0.1, beta=1.0, l1=1.0, l2=1.0)


def available(module):
    """True when ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


class Learner:
    """Base adapter; see the module docstring for the protocol."""

    family = ""
    #: False for learners that do not hash their input (one row, any --bits).
    hashed = True
    #: True for rows that measure speed only (no memory, test metrics or weight count).
    speed_only = False
    requires = None

    def __init__(self, name):
        self.name = name

    def available(self):
        return self.requires is None or available(self.requires)

    def prepare(self, data):
        return data

    def warm_up(self, inputs):
        pass

    def train(self, inputs):
        raise NotImplementedError

    def predict_proba(self, model, inputs):
        raise NotImplementedError

    def n_nonzero(self, model):
        raise NotImplementedError

    def n_rows(self, n_train):
        """Rows the timed pass trains on."""
        return n_train

    def describe(self):
        return {}


class EstimatorLearner(Learner):
    """A scikit-learn style classifier (ftrlx or sklearn).

    ``mode='fit'`` times one ``fit`` call (the factory sets a single epoch);
    ``mode='partial_fit'`` times ``partial_fit`` over consecutive chunks of
    ``chunk_rows`` training rows, the chunks sliced before timing.
    """

    def __init__(self, name, factory, mode, family, chunk_rows=10_000):
        super().__init__(name)
        self.factory = factory
        self.mode = mode
        self.family = family
        self.chunk_rows = chunk_rows

    def prepare(self, data):
        if self.mode == "fit":
            return data, None
        n = data.X_train.shape[0]
        chunks = [
            (data.X_train[i : i + self.chunk_rows], data.y_train[i : i + self.chunk_rows])
            for i in range(0, n, self.chunk_rows)
        ]
        return data, chunks

    def _run(self, X, y, chunks):
        est = self.factory()
        with warnings.catch_warnings():
            # sklearn's one-epoch fit warns that it did not converge.
            warnings.simplefilter("ignore", category=Warning)
            if self.mode == "fit":
                est.fit(X, y)
            else:
                for Xc, yc in chunks:
                    est.partial_fit(Xc, yc, classes=[0, 1])
        return est

    def warm_up(self, inputs):
        data, _ = inputs
        X, y = narrow(data.X_train[:WARM_UP_ROWS]), data.y_train[:WARM_UP_ROWS]
        half = WARM_UP_ROWS // 2
        self._run(X, y, [(X[:half], y[:half]), (X[half:], y[half:])])

    def train(self, inputs):
        data, chunks = inputs
        return self._run(data.X_train, data.y_train, chunks)

    def predict_proba(self, model, inputs):
        data, _ = inputs
        return np.asarray(model.predict_proba(data.X_test)[:, 1], dtype=np.float64)

    def n_nonzero(self, model):
        n = getattr(model, "n_nonzero_", None)
        return int(n) if n is not None else int(np.count_nonzero(model.coef_))

    def describe(self):
        est = self.factory()
        params = {k: v for k, v in est.get_params().items() if _plain(v)}
        out = {"class": type(est).__name__, "mode": self.mode, "params": params}
        if self.mode == "partial_fit":
            out["chunk_rows"] = self.chunk_rows
        return out


def narrow(X, bits=WARM_UP_BITS):
    """The rows of CSR ``X`` folded into at most 2**bits columns."""
    import scipy.sparse as sp

    width = min(X.shape[1], 2**bits)
    out = sp.csr_matrix((X.data.copy(), X.indices % width, X.indptr.copy()), shape=(X.shape[0], width))
    out.sum_duplicates()
    return out


def _plain(v):
    return v is None or isinstance(v, (bool, int, float, str))


def vw_namespaces(n_fields):
    """One single-character namespace per field (VW keys namespaces by their first character)."""
    if n_fields > len(string.ascii_letters):
        raise ValueError(f"at most {len(string.ascii_letters)} fields can get their own namespace")
    return string.ascii_letters[:n_fields]


def vw_lines(raw, y):
    """Vowpal Wabbit text lines ``"1 |a f0_123 |b f1_7 ..."`` (labels -1/1), one namespace per field."""
    ns = vw_namespaces(raw.shape[1])
    heads = [f"|{c} f{j}_" for j, c in enumerate(ns)]
    return [
        ("1 " if label else "-1 ") + " ".join(h + str(v) for h, v in zip(heads, row))
        for row, label in zip(raw.tolist(), np.asarray(y).tolist())
    ]


class VWLearner(Learner):
    """Vowpal Wabbit in-process (``vowpalwabbit.Workspace``), fed text lines.

    The lines are built before timing; the timed pass is ``Workspace(...)`` plus
    one ``learn(line)`` per row, which includes VW's own parsing of the line.
    """

    family = "vowpalwabbit"
    requires = "vowpalwabbit"

    def __init__(self, name, args):
        super().__init__(name)
        self.args = args
        self._tmp = None

    def _workspace(self, bits, readable=None):
        from vowpalwabbit import Workspace

        args = f"{self.args} --loss_function logistic --link logistic -b {bits} --quiet"
        if readable:
            args += f" --readable_model {readable}"
        return Workspace(args)

    def prepare(self, data):
        return data

    def warm_up(self, data):
        ws = self._workspace(min(data.bits, WARM_UP_BITS))
        for line in data.vw_train[:WARM_UP_ROWS]:
            ws.learn(line)
        ws.finish()

    def train(self, data):
        self._tmp = tempfile.mkdtemp(prefix="bench_vw_")
        ws = self._workspace(data.bits, os.path.join(self._tmp, "model.txt"))
        learn = ws.learn
        for line in data.vw_train:
            learn(line)
        return ws

    def predict_proba(self, ws, data):
        predict = ws.predict
        return np.fromiter((predict(line) for line in data.vw_test), dtype=np.float64, count=len(data.vw_test))

    def n_nonzero(self, ws):
        # The readable model lists "index:weight[ state...]" for every touched
        # slot; count the ones whose weight is not zero (bias included).
        path = os.path.join(self._tmp, "model.txt")
        ws.finish()
        pattern = re.compile(r"^\d+:(\S+)")
        n = 0
        with open(path) as fh:
            for line in fh:
                m = pattern.match(line)
                if m and float(m.group(1)) != 0.0:
                    n += 1
        os.remove(path)
        os.rmdir(self._tmp)
        return n

    def describe(self):
        return {
            "args": f"{self.args} --loss_function logistic --link logistic -b BITS --quiet",
            "input": "text lines, one namespace per field, learn(str) per row",
        }


class VWParsedLearner(VWLearner):
    """Vowpal Wabbit's learn alone: the first ``rows`` lines are parsed into
    ``Example`` objects before timing (they take ~35 KB each, hence the prefix).

    Speed only: no test metrics, no weight count, and no memory figure (the
    workspace is built with the Examples, before the measurement starts).
    """

    speed_only = True

    def __init__(self, name, args, rows):
        super().__init__(name, args)
        self.rows = rows

    def prepare(self, data):
        import gc

        ws = self._workspace(data.bits)
        gc.disable()  # a million live Examples make every collection crawl
        try:
            examples = [ws.parse(line) for line in data.vw_train[: self.rows]]
        finally:
            gc.enable()
        return ws, examples

    def warm_up(self, inputs):
        ws, examples = inputs
        # the timed pass reuses this workspace: warm it on a throw-away copy of the first lines
        for ex in examples[:WARM_UP_ROWS]:
            ws.learn(ex)

    def train(self, inputs):
        ws, examples = inputs
        learn = ws.learn
        for ex in examples[WARM_UP_ROWS:]:
            learn(ex)
        return ws

    def n_rows(self, n_train):
        return max(0, min(self.rows, n_train) - WARM_UP_ROWS)

    def predict_proba(self, model, inputs):
        return None

    def n_nonzero(self, model):
        return None

    def describe(self):
        out = super().describe()
        out["input"] = (
            f"the first {self.rows} lines parsed into Examples before timing; "
            f"{WARM_UP_ROWS} of them warm the workspace, the rest are timed"
        )
        return out


class DatatableFtrlLearner(Learner):
    """datatable's ``Ftrl`` on a Frame of the raw categorical columns (it hashes them itself).

    datatable 1.x has no per-model thread argument: the thread count is the
    global ``datatable.options.nthreads``, set before the warm-up.
    """

    family = "datatable"
    requires = "datatable"

    def __init__(self, name, nthreads):
        super().__init__(name)
        self.nthreads = nthreads

    def _model(self, bits):
        from datatable.models import Ftrl

        p = FTRL_PARAMS
        return Ftrl(alpha=p["alpha"], beta=p["beta"], lambda1=p["l1"], lambda2=p["l2"], nbins=2**bits, nepochs=1)

    def prepare(self, data):
        import datatable as dt

        dt.options.nthreads = self.nthreads
        names = [f"C{j}" for j in range(data.raw_train.shape[1])]
        return {
            "bits": data.bits,
            "X": dt.Frame(np.ascontiguousarray(data.raw_train, dtype=np.int32), names=names),
            "y": dt.Frame(target=data.y_train.astype(bool)),
            "X_test": dt.Frame(np.ascontiguousarray(data.raw_test, dtype=np.int32), names=names),
        }

    def warm_up(self, inputs):
        self._model(min(inputs["bits"], WARM_UP_BITS)).fit(inputs["X"][:WARM_UP_ROWS, :], inputs["y"][:WARM_UP_ROWS, :])

    def train(self, inputs):
        model = self._model(inputs["bits"])
        model.fit(inputs["X"], inputs["y"])
        return model

    def predict_proba(self, model, inputs):
        return model.predict(inputs["X_test"])["True"].to_numpy().ravel().astype(np.float64)

    def n_nonzero(self, model):
        # Weight i is zero exactly when |z_i| <= lambda1 (FTRL-Proximal).
        z = model.model[:, 0].to_numpy().ravel()
        return int(np.count_nonzero(np.abs(z) > model.lambda1))

    def describe(self):
        p = FTRL_PARAMS
        return {
            "params": dict(
                alpha=p["alpha"], beta=p["beta"], lambda1=p["l1"], lambda2=p["l2"], nbins="2**BITS", nepochs=1
            ),
            "nthreads": self.nthreads,
            "input": "Frame of the raw int32 category ids",
        }


class RiverFtrlLearner(Learner):
    """river ``LogisticRegression`` with its ``FTRLProximal`` optimizer, one ``learn_one`` per row.

    river does not hash: a row is a dict ``{"<field>_<id>": 1}`` built before
    timing, so the same row serves every --bits.
    """

    family = "river"
    requires = "river"
    hashed = False

    def _model(self):
        from river import linear_model, optim

        return linear_model.LogisticRegression(optimizer=optim.FTRLProximal(**FTRL_PARAMS))

    @staticmethod
    def _dicts(raw):
        return [{f"{j}_{v}": 1 for j, v in enumerate(row)} for row in raw.tolist()]

    def prepare(self, data):
        return {
            "X": self._dicts(data.raw_train),
            "y": data.y_train.astype(bool).tolist(),
            "X_test": self._dicts(data.raw_test),
        }

    def warm_up(self, inputs):
        model = self._model()
        for x, y in zip(inputs["X"][:WARM_UP_ROWS], inputs["y"][:WARM_UP_ROWS]):
            model.learn_one(x, y)

    def train(self, inputs):
        model = self._model()
        learn = model.learn_one
        for x, y in zip(inputs["X"], inputs["y"]):
            learn(x, y)
        return model

    def predict_proba(self, model, inputs):
        proba = model.predict_proba_one
        return np.fromiter((proba(x)[True] for x in inputs["X_test"]), dtype=np.float64, count=len(inputs["X_test"]))

    def n_nonzero(self, model):
        return sum(1 for w in model.weights.values() if w != 0)

    def describe(self):
        return {
            "model": "river.linear_model.LogisticRegression(optimizer=river.optim.FTRLProximal(...))",
            "params": dict(FTRL_PARAMS),
            "input": "dict {'<field>_<id>': 1} per row, learn_one per row",
        }
