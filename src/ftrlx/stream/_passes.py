"""Several passes over a stream: the chunks of each pass tagged with its number, and early stopping on the holdout.

Held-out chunks are picked by their index *within* a pass, so every pass holds out the same rows (the k-th, 2k-th,
... chunk of each pass), whatever the number of chunks per pass.  The early-stopping decision is computed from the
history alone, so a resumed run stops where an uninterrupted one does.
"""

import math


def tagged_passes(chunks, passes):
    """``(pass, chunk)`` for every chunk of ``passes`` passes over ``chunks``.

    ``chunks`` is called once per pass when it is callable (a function returning the stream of one pass); otherwise
    it is iterated once per pass, which needs a re-iterable (a list), not an iterator, when ``passes > 1``."""
    if not callable(chunks) and passes > 1 and iter(chunks) is chunks:
        raise TypeError(
            f"passes={passes} needs a stream that can be read again: pass a function that returns the stream of "
            "one pass (e.g. lambda: ftrlx.datasets.iter_criteo(path)), or a list of chunks, not an iterator"
        )
    for p in range(passes):
        for chunk in chunks() if callable(chunks) else chunks:
            yield p, chunk


def check_passes(passes, early_stop, holdout_every):
    if isinstance(passes, bool) or not isinstance(passes, int) or passes < 1:
        raise ValueError(f"passes must be a positive integer, got {passes!r}")
    if early_stop is None:
        return
    if isinstance(early_stop, bool) or not isinstance(early_stop, int) or early_stop < 1:
        raise ValueError(f"early_stop must be a positive integer or None, got {early_stop!r}")
    if holdout_every is None:
        raise ValueError("early_stop watches the held-out chunks' log loss; pass holdout_every=K too")


def pass_losses(history):
    """The held-out log loss of each pass, in pass order (NaN for a pass without held-out rows)."""
    sums = {}
    for rec in history:
        if rec.get("kind") == "holdout" and rec.get("rows"):
            loss, rows = sums.setdefault(rec.get("pass", 0), [0.0, 0])
            sums[rec.get("pass", 0)] = [loss + rec["logloss"] * rec["rows"], rows + rec["rows"]]
    last = max((rec.get("pass", 0) for rec in history), default=-1)
    return [sums[p][0] / sums[p][1] if p in sums else math.nan for p in range(last + 1)]


def should_stop(history, done, early_stop):
    """Whether ``early_stop`` passes have gone by without a lower held-out log loss, after pass ``done``."""
    losses = pass_losses(history)[: done + 1]
    if any(math.isnan(v) for v in losses):
        p = next(i for i, v in enumerate(losses) if math.isnan(v))
        raise ValueError(
            f"early_stop needs the held-out log loss of every pass, and pass {p + 1} has none: no chunk of the pass "
            "was held out (holdout_every is more than the chunks of a pass: lower it, or use smaller chunks), or "
            "the loss gives no probabilities"
        )
    best = min(range(len(losses)), key=losses.__getitem__)
    return done - best >= early_stop
