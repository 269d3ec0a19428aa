"""Cumulative progressive metrics of one kind of chunk (trained or held out)."""

import math

from ftrlx.metrics import RunningAUC, RunningLogLoss


class Tally:
    """Log loss, AUC, positive rate and mean prediction over every row of one kind so far."""

    def __init__(self, exact_auc_rows):
        self.logloss = RunningLogLoss()
        self.auc = RunningAUC(exact_limit=exact_auc_rows)
        self.n = 0
        self.sum_y = 0
        self.sum_p = 0.0

    def get_state(self):
        return {
            "logloss": self.logloss.get_state(),
            "auc": self.auc.get_state(),
            "n": self.n,
            "sum_y": self.sum_y,
            "sum_p": self.sum_p,
        }

    @classmethod
    def from_state(cls, state):
        obj = cls.__new__(cls)
        obj.logloss = RunningLogLoss.from_state(state["logloss"])
        obj.auc = RunningAUC.from_state(state["auc"])
        obj.n, obj.sum_y, obj.sum_p = int(state["n"]), int(state["sum_y"]), float(state["sum_p"])
        return obj

    def add(self, y, p, score):
        """Add a chunk as :meth:`update` does, without its record (nor its own AUC, which costs a sort of the
        chunk): for a caller that reads only the cumulative values at the end."""
        self._accumulate(y, p, score, self.auc.add)

    def update(self, y, p, score):
        """Add a chunk of boolean labels, probabilities (or None) and ranking scores; return its record."""
        n = y.size
        npos, auc, logloss, s = self._accumulate(y, p, score, self.auc.update)
        rec = {"pos_rate": npos / n if n else math.nan, "cum_pos_rate": self.sum_y / self.n if self.n else math.nan}
        rec["auc"] = auc
        rec["cum_auc"] = self.auc.value
        if p is None:
            rec.update(logloss=math.nan, mean_pred=math.nan, cum_logloss=math.nan, cum_mean_pred=math.nan)
        else:
            rec["logloss"] = logloss
            rec["cum_logloss"] = self.logloss.value
            rec["mean_pred"] = s / n if n else math.nan
            rec["cum_mean_pred"] = self.sum_p / self.n if self.n else math.nan
        return rec

    def _accumulate(self, y, p, score, add_auc):
        """Count a chunk into every total, its scores into the AUC through ``add_auc`` (``self.auc.update`` or
        ``.add``); the chunk's positives, what ``add_auc`` returned, its log loss and its sum of p (NaN without
        p)."""
        if self.n == 0 and p is None:
            # without probabilities the ranking scores are margins: the AUC's histogram (past its exact rows)
            # bins them as they are, not as probabilities
            self.auc.scores = "margin"
        self.n += y.size
        npos = int(y.sum())
        self.sum_y += npos
        auc = add_auc(y, score)
        logloss = s = math.nan
        if p is not None:
            logloss = self.logloss.update(y, p)
            s = float(p.sum())
            self.sum_p += s
        return npos, auc, logloss, s
