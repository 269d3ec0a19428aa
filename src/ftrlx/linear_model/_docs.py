"""The parts of the online estimators' docstrings that every algorithm shares."""

_LOSS_DOC = """
    loss : str
        Classifiers: 'log_loss' (logistic regression, default; enables ``predict_proba``), 'hinge' (linear SVM) or
        'modified_huber'.  Regressors: 'squared_error'."""

# what every estimator's training takes
_TRAINING_DOC = """
    fit_intercept : bool, default=True
        Learn an unregularised intercept with its own optimizer state.
    batch_size : int, default=1
        Rows per step: the gradients of a batch are computed at the batch-start weights and their mean is applied
        once per coordinate.  1 is classic online learning.
    max_iter : int, default=5
        Passes over the data in ``fit`` (``partial_fit`` always makes one pass).
    shuffle : bool, default=True
        Shuffle the rows before each pass of ``fit`` (``partial_fit`` keeps the given order).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling.
    warm_start : bool, default=False
        Let ``fit`` continue from the current state instead of starting over.
    n_jobs : int or None, default=1
        Threads a training call uses.  None means 1 (unless inside a ``joblib.parallel_config`` context), -1 every
        core, -2 every core but one, and so on, as in scikit-learn.  1 trains exactly as without threads.
    parallel : {'outputs', 'hogwild', 'deterministic'}, default='outputs'
        What the ``n_jobs`` threads share.  'outputs': the one-vs-rest classes train concurrently, each on its own
        thread; the model is bitwise the one of ``n_jobs=1``.  A model with one output trains on one thread, and
        in a shuffled epoch a second thread gathers the next rows meanwhile (which spares the epoch most of what
        visiting the rows out of order costs).
        'hogwild': the rows of each call are split into ``n_jobs`` parts trained at once on the shared state
        without locks (fastest; not reproducible; refused for FOBOS, truncated gradient and OGD with a
        regulariser, whose lazy catch-up keeps global clocks).  'deterministic': each thread trains its part of
        every round of rows on a private copy of the columns it touches, and the copies are merged after every
        round (the changes of each accumulator summed); bitwise the same model run after run for a fixed
        ``n_jobs`` and the same calls.  See the guide page "Training over many machines"."""

_COMMON_DOC = _LOSS_DOC + _TRAINING_DOC

_CLASSIFIER_DOC = """
    class_weight : dict, 'balanced' or None, default=None
        Weights multiplied into the sample weights ('balanced' only in ``fit``).  One-vs-rest: positives of class k
        get ``class_weight[k]``, negatives 1."""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features); (n_features,) for regressors
        Weights at the current step, computed from the optimizer state when read.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
        Classifiers only.
    n_features_in_ : int
    t_ : int
        Optimizer steps taken (one per batch), kept across ``partial_fit`` calls.
    n_iter_ : int
        Passes made by the last call.
    n_nonzero_ : int
        Number of non-zero weights."""

_SCHEDULE_DOC = """
    eta0 : float
        Initial learning rate.  One global rate serves every coordinate, so its best value follows the scale of the
        rows: about 20 / (mean squared row norm) is a good start (1.0, the classifiers' default, suits rows of
        about twenty unit features, as in hashed click logs; L2-normalised text rows want about 20).  Per-coordinate learners (FTRL, AdaGrad)
        need no such scaling.
    learning_rate : {'constant', 'invsqrt', 'linear'}, default='invsqrt'
        eta_t = eta0, eta0 / sqrt(t), or a linear decay from eta0 to eta_final over decay_steps steps, then constant.
    decay_steps : int, default=100000
        Length of the linear decay.
    eta_final : float or None, default=None
        Final rate of the linear decay (None: eta0 / 100)."""
