"""Normalisation layers with explicit forward and backward passes (NumPy).

All four layers share one computation.  The input is split into groups of
values (which values form a group is what tells the layers apart); within a
group of size M with values x_1..x_M

    mu    = (1/M) sum_i x_i
    var   = (1/M) sum_i (x_i - mu)^2          (biased: divide by M)
    xhat  = (x - mu) / sqrt(var + eps)
    y     = gamma * xhat + beta               (gamma, beta per channel/feature)

and, given the upstream gradient dy = dL/dy,

    dbeta  = sum of dy over everything that shares one beta
    dgamma = sum of dy * xhat over the same
    g      = gamma * dy
    dx     = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)

with the means taken over each normalisation group.  The last line is the
chain rule through mu and var collected into one expression; each test
checks it against central finite differences and against PyTorch autograd.

==============  =======================  ==============================  ==============
layer           input                    one group (statistics over)     gamma, beta
==============  =======================  ==============================  ==============
BatchNorm       (N, C), ``(N, C, *S)``   one channel over N and S        (C,)
LayerNorm       ``(*B, *F)``             one sample over F               F
InstanceNorm    (N, C, L), (N, C, H, W)  one sample and channel over S   (C,)
GroupNorm       ``(N, C, *S)``           one sample over C/G channels    (C,)
                                         and S
==============  =======================  ==============================  ==============

``F`` is ``normalized_shape`` and ``S`` the spatial axes.  ``GroupNorm``
with one group equals ``LayerNorm`` over ``(C, *S)`` with per-channel affine
parameters, and with C groups equals ``InstanceNorm``.

Variance convention (the same as PyTorch): the *biased* variance (divide by
M) normalises in training, while the running variance that ``BatchNorm``
keeps for inference is updated with the *unbiased* batch variance
``var * M / (M - 1)``.

Each layer stores the gradients of its last ``backward`` as ``dgamma`` and
``dbeta`` and also returns them, as ``(dx, dgamma, dbeta)``.  Inputs are
converted to the layer's ``dtype``.
"""

from numbers import Integral, Real

import numpy as np

from .init import _check_count as _check_int
from .init import _check_dtype

__all__ = ["BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm"]


def _check_eps(eps):
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, Real):
        raise TypeError(f"eps must be a real number, got {eps!r} of type {type(eps).__name__}.")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0 (typically 1e-5), got {eps}.")
    return float(eps)


def _as_finite(a, name, dtype):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}.")
    a = a.astype(dtype, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinity; check the previous layer or the data.")
    return a


class _Normalization:
    """Shared forward/backward; subclasses say how values are grouped.

    A subclass passes the shape of gamma/beta to ``__init__`` and defines
    ``_check_shape(x)`` (raise on a wrong input shape), ``_groups(x)`` (a
    view of x whose axes ``_group_axes(view)`` are one normalisation group)
    and ``_affine_shape(x)`` (the shape gamma/beta broadcast to against x).
    """

    def __init__(self, parameter_shape, eps, dtype):
        self._parameter_shape = parameter_shape
        self.eps = _check_eps(eps)
        self.dtype = _check_dtype(dtype)
        self.gamma = np.ones(parameter_shape, dtype=self.dtype)
        self.beta = np.zeros(parameter_shape, dtype=self.dtype)
        self.dgamma = None
        self.dbeta = None
        self._cache = None

    def _parameters(self, x):
        shape = self._affine_shape(x)
        params = []
        for name in ("gamma", "beta"):
            p = _as_finite(getattr(self, name), name, self.dtype)
            if p.shape != self.gamma_shape:
                raise ValueError(
                    f"{name} has shape {p.shape} but this layer needs {self.gamma_shape}; "
                    "assign an array of that shape."
                )
            params.append(p.reshape(shape))
        return params

    @property
    def gamma_shape(self):
        """Shape of ``gamma`` and ``beta``."""
        return self._parameter_shape

    def _statistics(self, view, axes):
        """Batch mean and biased variance of each group (keepdims)."""
        mean = view.mean(axis=axes, keepdims=True)
        var = np.square(view - mean).mean(axis=axes, keepdims=True)
        return mean, var

    def _inverse_std(self, var):
        if self.eps == 0 and not np.all(var > 0):
            raise ValueError(
                "a normalisation group has zero variance and eps=0, which divides by zero; use eps > 0 (e.g. 1e-5)."
            )
        return 1.0 / np.sqrt(var + self.eps)

    def forward(self, x):
        """Normalise ``x`` and apply the affine map; cache what backward needs.

        Parameters
        ----------
        x : array-like
            Input, shape as in the class description; finite.

        Returns
        -------
        y : ndarray, same shape as x, dtype ``self.dtype``
        """
        x = _as_finite(x, "x", self.dtype)
        self._check_shape(x)
        gamma, beta = self._parameters(x)
        view = self._groups(x)
        axes = self._group_axes(view)
        use_batch = self._uses_batch_statistics()
        if use_batch:
            mean, var = self._statistics(view, axes)
        else:
            mean, var = self._running_statistics(view)
        inv_std = self._inverse_std(var)
        # Everything is checked: from here on state may change.
        if use_batch:
            self._update_running(mean, var, view, axes)
        xhat = ((view - mean) * inv_std).reshape(x.shape)
        self._cache = (xhat, inv_std, gamma, x.shape, use_batch)
        return gamma * xhat + beta

    __call__ = forward

    def backward(self, dy):
        """Back-propagate ``dy = dL/dy`` through the last ``forward``.

        Parameters
        ----------
        dy : array-like
            Upstream gradient, same shape as the last input; finite.

        Returns
        -------
        dx : ndarray
            Gradient with respect to the input.
        dgamma, dbeta : ndarray of shape ``gamma_shape``
            Gradients with respect to gamma and beta (also stored as
            attributes ``dgamma`` and ``dbeta``).
        """
        if self._cache is None:
            raise RuntimeError("backward called before forward; call forward(x) first.")
        xhat, inv_std, gamma, shape, use_batch = self._cache
        dy = _as_finite(dy, "dy", self.dtype)
        if dy.shape != shape:
            raise ValueError(f"dy has shape {dy.shape} but the last forward input had shape {shape}.")
        # gamma/beta were broadcast along every axis where their padded shape is 1.
        padded = (1,) * (dy.ndim - gamma.ndim) + gamma.shape
        reduce_axes = tuple(i for i, s in enumerate(padded) if s == 1)
        dbeta = dy.sum(axis=reduce_axes).reshape(self.gamma_shape)
        dgamma = (dy * xhat).sum(axis=reduce_axes).reshape(self.gamma_shape)
        g = self._groups(gamma * dy)
        if use_batch:
            xv = self._groups(xhat)
            axes = self._group_axes(g)
            g = g - g.mean(axis=axes, keepdims=True) - xv * (g * xv).mean(axis=axes, keepdims=True)
        dx = (g * inv_std).reshape(shape)
        self.dgamma, self.dbeta = dgamma, dbeta
        return dx, dgamma, dbeta

    def _uses_batch_statistics(self):
        return True

    def _update_running(self, mean, var, view, axes):
        """Only BatchNorm keeps running statistics."""

    def _check_channels(self, x, n_channels, name):
        if x.ndim < 2:
            raise ValueError(f"x must have shape (N, C, ...), got a {x.ndim}-d array of shape {x.shape}.")
        if x.shape[1] != n_channels:
            raise ValueError(f"x has {x.shape[1]} channels (axis 1) but this layer was built with {name}={n_channels}.")

    @staticmethod
    def _channel_shape(x):
        return (1, x.shape[1]) + (1,) * (x.ndim - 2)

    _affine_shape = _channel_shape


class BatchNorm(_Normalization):
    """Batch normalisation over the batch (and spatial) axes, per channel.

    In training mode each channel is normalised with the mean and biased
    variance of the current batch, taken over axis 0 and any spatial axes,
    and the running estimates are updated as
    ``running = (1 - momentum) * running + momentum * batch`` with the
    *unbiased* batch variance (the PyTorch convention).  In evaluation mode
    the running estimates are used instead and nothing is updated.

    Parameters
    ----------
    num_features : int
        Number of channels C (axis 1 of the input).
    eps : float, default=1e-5
        Added to the variance before the square root, >= 0.
    momentum : float or None, default=0.1
        Weight of the new batch in the running estimates, in [0, 1].
        ``None`` gives the cumulative average over all batches seen.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of parameters, statistics and computations.

    Attributes
    ----------
    gamma, beta : ndarray of shape (C,)
        Learned scale (init 1) and shift (init 0).
    dgamma, dbeta : ndarray of shape (C,) or None
        Gradients from the last ``backward``.
    running_mean, running_var : ndarray of shape (C,)
        Inference statistics (init 0 and 1).
    num_batches_tracked : int
        Training batches seen.
    training : bool
        Mode; see :meth:`train` and :meth:`eval`.

    Examples
    --------
    >>> bn = BatchNorm(2)
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> bn.forward(x).round(6).tolist()
    [[-0.999995, -1.0], [0.999995, 1.0]]
    >>> bn.running_mean.tolist()  # 0.9 * 0 + 0.1 * batch mean
    [0.2, 2.0]
    >>> dx, dgamma, dbeta = bn.backward(np.ones_like(x))
    >>> dbeta.tolist(), bool(np.allclose(dx, 0))
    ([2.0, 2.0], True)
    >>> bn.eval().forward(x).shape
    (2, 2)
    """

    def __init__(self, num_features, *, eps=1e-5, momentum=0.1, dtype=np.float64):
        c = _check_int(num_features, "num_features")
        if momentum is not None:
            if isinstance(momentum, (bool, np.bool_)) or not isinstance(momentum, Real):
                raise TypeError(f"momentum must be a real number or None, got {momentum!r}.")
            if not 0 <= momentum <= 1:
                raise ValueError(f"momentum must be in [0, 1] or None, got {momentum}.")
            momentum = float(momentum)
        super().__init__((c,), eps, dtype)
        self.num_features = c
        self.momentum = momentum
        self.running_mean = np.zeros(c, dtype=self.dtype)
        self.running_var = np.ones(c, dtype=self.dtype)
        self.num_batches_tracked = 0
        self.training = True

    def train(self, mode=True):
        """Set training mode (batch statistics) or, with ``mode=False``, evaluation.

        Returns
        -------
        self
        """
        self.training = bool(mode)
        return self

    def eval(self):
        """Set evaluation mode (running statistics). Returns self."""
        return self.train(False)

    def _check_shape(self, x):
        self._check_channels(x, self.num_features, "num_features")
        if self.training and x.size // x.shape[1] < 2:
            raise ValueError(
                f"batch norm in training mode needs more than one value per channel, got input "
                f"shape {x.shape}; use a larger batch or eval()."
            )

    def _groups(self, x):
        return x

    def _group_axes(self, view):
        return (0,) + tuple(range(2, view.ndim))

    def _uses_batch_statistics(self):
        return self.training

    def _running_statistics(self, view):
        shape = self._channel_shape(view)
        mean = _as_finite(self.running_mean, "running_mean", self.dtype)
        var = _as_finite(self.running_var, "running_var", self.dtype)
        if mean.shape != (self.num_features,) or var.shape != (self.num_features,):
            raise ValueError(
                f"running_mean and running_var must have shape ({self.num_features},), got "
                f"{mean.shape} and {var.shape}."
            )
        if (var < 0).any():
            raise ValueError("running_var has negative entries; a variance must be >= 0.")
        return mean.reshape(shape), var.reshape(shape)

    def _update_running(self, mean, var, view, axes):
        count = view.size // view.shape[1]
        self.num_batches_tracked += 1
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        unbiased = var.ravel() * (count / (count - 1))
        self.running_mean = (1 - m) * self.running_mean + m * mean.ravel()
        self.running_var = (1 - m) * self.running_var + m * unbiased


class LayerNorm(_Normalization):
    """Layer normalisation over the trailing ``normalized_shape`` axes of each sample.

    Statistics never mix samples, so training and inference compute the same
    thing and a batch of one is fine.  gamma and beta are element-wise, of
    shape ``normalized_shape``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape F normalised over; the input is ``(*B, *F)``.
    eps : float, default=1e-5
        Added to the variance before the square root, >= 0.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of parameters and computations.

    Examples
    --------
    >>> ln = LayerNorm(3, eps=0.0)
    >>> ln.forward([[1.0, 2.0, 3.0]]).round(6).tolist()
    [[-1.224745, 0.0, 1.224745]]
    """

    def __init__(self, normalized_shape, *, eps=1e-5, dtype=np.float64):
        if isinstance(normalized_shape, Integral) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        try:
            shape = tuple(normalized_shape)
        except TypeError as exc:
            raise TypeError(f"normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}.") from exc
        if not shape:
            raise ValueError("normalized_shape must not be empty.")
        shape = tuple(_check_int(s, "each entry of normalized_shape") for s in shape)
        super().__init__(shape, eps, dtype)
        self.normalized_shape = shape

    def _check_shape(self, x):
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k :] != self.normalized_shape:
            raise ValueError(f"x of shape {x.shape} does not end with normalized_shape {self.normalized_shape}.")

    def _groups(self, x):
        return x

    def _group_axes(self, view):
        return tuple(range(view.ndim - len(self.normalized_shape), view.ndim))

    def _affine_shape(self, x):
        return self.normalized_shape


class InstanceNorm(_Normalization):
    """Instance normalisation: each sample and channel over its spatial axes.

    Always uses the statistics of the input itself (no running estimates), in
    training and inference alike.

    Parameters
    ----------
    num_features : int
        Number of channels C; the input is (N, C, L) or (N, C, H, W)
        (more spatial axes are accepted too).
    eps : float, default=1e-5
        Added to the variance before the square root, >= 0.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of parameters and computations.

    Examples
    --------
    >>> inorm = InstanceNorm(1, eps=0.0)
    >>> inorm.forward([[[0.0, 2.0]]]).tolist()
    [[[-1.0, 1.0]]]
    """

    def __init__(self, num_features, *, eps=1e-5, dtype=np.float64):
        c = _check_int(num_features, "num_features")
        super().__init__((c,), eps, dtype)
        self.num_features = c

    def _check_shape(self, x):
        if x.ndim < 3:
            raise ValueError(
                f"instance norm needs input (N, C, L) or (N, C, H, W), got a {x.ndim}-d array of shape {x.shape}."
            )
        self._check_channels(x, self.num_features, "num_features")
        if x[0, 0].size < 2:
            raise ValueError(f"instance norm needs more than one spatial value per channel, got input shape {x.shape}.")

    def _groups(self, x):
        return x

    def _group_axes(self, view):
        return tuple(range(2, view.ndim))


class GroupNorm(_Normalization):
    """Group normalisation: each sample over groups of C/G channels and the spatial axes.

    Channels ``g*C/G .. (g+1)*C/G - 1`` form group ``g``.  ``num_groups=1``
    is layer norm over ``(C, *S)`` and ``num_groups=C`` is instance norm (both
    with per-channel gamma and beta).

    Parameters
    ----------
    num_groups : int
        Number of groups G; must divide ``num_channels``.
    num_channels : int
        Number of channels C; the input is ``(N, C)`` or ``(N, C, *S)``.
    eps : float, default=1e-5
        Added to the variance before the square root, >= 0.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of parameters and computations.

    Examples
    --------
    >>> gn = GroupNorm(2, 4, eps=0.0)
    >>> gn.forward([[1.0, 3.0, 10.0, 20.0]]).tolist()
    [[-1.0, 1.0, -1.0, 1.0]]
    """

    def __init__(self, num_groups, num_channels, *, eps=1e-5, dtype=np.float64):
        g = _check_int(num_groups, "num_groups")
        c = _check_int(num_channels, "num_channels")
        if c % g:
            raise ValueError(
                f"num_channels={c} is not divisible by num_groups={g}; pick a num_groups that divides {c}."
            )
        super().__init__((c,), eps, dtype)
        self.num_groups = g
        self.num_channels = c

    def _check_shape(self, x):
        self._check_channels(x, self.num_channels, "num_channels")

    def _groups(self, x):
        return x.reshape(x.shape[0], self.num_groups, -1)

    def _group_axes(self, view):
        return (2,)
