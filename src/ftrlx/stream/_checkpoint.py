"""Checkpoints of a streaming run: the model plus the loop's own state, written atomically; exact resume."""

import math
import os

from ._tally import Tally

CHECKPOINT_VERSION = 1


class RunState:
    """Counters, metrics and history of a run: everything besides the model that a checkpoint holds."""

    def __init__(self, exact_auc_rows, history):
        self.history = history
        self.train = Tally(exact_auc_rows)
        self.hold = Tally(exact_auc_rows)
        self.chunks_done = self.rows_read = self.rows_seen = 0
        self.finished = False

    def tally(self, holdout):
        return self.hold if holdout else self.train

    def to_dict(self, finished, holdout_every):
        return {
            "version": CHECKPOINT_VERSION,
            "chunks_done": self.chunks_done,
            "rows_read": self.rows_read,
            "rows_seen": self.rows_seen,
            "finished": finished,
            "holdout_every": holdout_every,
            "history": list(self.history),
            "train": self.train.get_state(),
            "holdout": self.hold.get_state(),
        }

    def restore(self, state):
        self.history.extend(state["history"])
        self.train = Tally.from_state(state["train"])
        self.hold = Tally.from_state(state["holdout"])
        self.chunks_done, self.rows_read, self.rows_seen = (
            int(state[k]) for k in ("chunks_done", "rows_read", "rows_seen")
        )
        self.finished = bool(state["finished"])


_RUN_KEYS = {
    "chunks_done": int,
    "rows_read": int,
    "rows_seen": int,
    "finished": bool,
    "history": list,
    "train": dict,
    "holdout": dict,
}


def _check_run_state(state, path):
    """The loop's part of a checkpoint has every entry, of the right type (a crafted file gets a clear error)."""
    for key, kind in _RUN_KEYS.items():
        value = state.get(key) if isinstance(state, dict) else None
        if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 0)):
            raise ValueError(
                f"checkpoint {path!r} has no valid {key!r} entry in its run state; it was not written by "
                "ftrlx.fit_stream (or is damaged): start again without resume"
            )
    if not all(isinstance(rec, dict) for rec in state["history"]):
        raise ValueError(
            f"checkpoint {path!r}: its history holds something other than records; start again without resume"
        )


def write(estimator, path, run, finished, holdout_every, metadata, history_csv):
    """Write the checkpoint (model and run state) atomically, and the history CSV beside it."""
    if path is None:
        return
    from ftrlx.io import _save_checkpoint

    meta = {"rows_seen": run.rows_seen, "rows_read": run.rows_read, **(metadata or {})}
    _save_checkpoint(estimator, path, run.to_dict(finished, holdout_every), metadata=meta)
    if history_csv is not None:
        run.history.to_csv(history_csv)


def resume(estimator, path, run, holdout_every):
    """Continue ``run`` from the checkpoint at ``path``, if it exists.

    Everything is checked before the estimator is touched: a refused resume leaves it as it was."""
    if not os.path.exists(path):
        return
    from ftrlx.io import _load_checkpoint

    saved, state = _load_checkpoint(path)
    _check_run_state(state, path)
    if state.get("version", 0) > CHECKPOINT_VERSION:
        raise ValueError(f"checkpoint {path!r} is from a newer ftrlx; upgrade to resume")
    if state.get("holdout_every") != holdout_every:
        raise ValueError(
            f"checkpoint {path!r} was written with holdout_every={state.get('holdout_every')!r}, not "
            f"{holdout_every!r}; resume with the same setting"
        )
    _check_same_model(estimator, saved, path)
    estimator.__dict__.clear()
    estimator.__setstate__(saved.__getstate__())
    run.restore(state)


def _check_same_model(estimator, saved, path):
    if type(saved) is not type(estimator):
        raise ValueError(
            f"checkpoint {path!r} holds a {type(saved).__name__}, not a {type(estimator).__name__}; resume with "
            "the same estimator class"
        )
    mine, theirs = estimator.get_params(deep=False), saved.get_params(deep=False)
    diff = sorted(k for k in mine if not _same(mine[k], theirs.get(k)))
    if diff:
        k = diff[0]
        raise ValueError(
            f"checkpoint {path!r} was trained with {k}={theirs.get(k)!r}, but the estimator has {k}={mine[k]!r}; "
            "resume with the same hyper-parameters"
        )


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return repr(a) == repr(b)
