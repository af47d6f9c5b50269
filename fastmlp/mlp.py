"""The multi-layer perceptron: fastmlp's main model.

**Defaults.** ``MLP().fit(X, y)`` with nothing but the data trains a network with two
hidden ReLU layers of 128 units (``hidden=(128, 128)``), input and output
widths taken from the data at the first fit, weights drawn as scikit-learn
draws them (``init='sklearn'``), by Adam at rate 1e-3 in batches of 32, for
enough epochs to make about 5,000 update steps (at least 10, at most 200;
see :func:`default_epochs`).  The measurements behind these choices are in
``tests/test_defaults.py``.

**Names across fastmlp.** The table in :class:`MLP`'s Notes maps each concept's name
in MLP, the optimizers, the scikit-learn drop-ins and the command line.
"""
from __future__ import annotations

import contextlib
import copy
import math
import os
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np

from fastmlp import _backend as B
from fastmlp import _fit
from fastmlp import initializers as _inits
from fastmlp import io as _io
from fastmlp._targets import TargetsMixin
from fastmlp.exceptions import not_fitted
from fastmlp.optim import as_lbfgs
from fastmlp._validation import (as_list, check_compute_dtype, check_dropout, check_dtype,
                                 check_forward_output, check_leaky_slope, check_nonneg_float,
                                 check_norm, check_quantile, check_X, check_y_2d,
                                 resolve_threads)

__all__ = ["MLP", "parse_layers", "default_epochs"]

core = B.core
#: rows per C call at inference (bounds the scratch memory)
_PREDICT_CHUNK = 4096
#: hidden widths when neither ``layers`` nor ``hidden`` is given
DEFAULT_HIDDEN = (128, 128)
#: update steps the default epoch count aims at, and its bounds (see default_epochs)
_DEFAULT_STEPS, _MIN_EPOCHS, _MAX_EPOCHS = 5000, 10, 200
#: iterations of fit(optimizer='lbfgs', epochs=None): scikit-learn's max_iter default
_LBFGS_MAX_ITER = 200


def default_epochs(n_samples: int, batch_size: Optional[int]) -> int:
    """The epochs ``fit(epochs=None)`` runs: enough for about 5,000 update steps,
    at least 10 and at most 200.

    A fixed count cannot serve both ends: 10 epochs of MNIST (60,000 rows,
    18,750 steps at batch 32) are plenty, while 10 epochs of a 1,000-point
    toy set are 320 steps, far from fitted.  So small sets get more epochs:
    the 1,797 digits about 110, a 1,000-point sine about 160.
    """
    n = max(int(n_samples), 1)
    bs = n if batch_size is None else max(min(int(batch_size), n), 1)
    per_epoch = -(-n // bs)
    return int(min(_MAX_EPOCHS, max(_MIN_EPOCHS, -(-_DEFAULT_STEPS // per_epoch))))


def _n_outputs(y: Any, loss: str) -> int:
    """The output width a first fit on targets ``y`` needs (see MLP's ``hidden``)."""
    y = np.asarray(y)
    if y.ndim == 2:
        return int(y.shape[1])
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D labels or values, or 2-D (n_samples, n_outputs); "
                         f"got shape {y.shape}")
    labels = loss in ("cce", "bce") or (loss == "auto" and y.dtype.kind in "iubUSO")
    if not labels:
        return 1
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity")
    n_classes = len(np.unique(y))
    if loss == "bce" and n_classes <= 2:
        return 1
    return max(n_classes, 2)


class _Summary(str):
    """The text of :meth:`MLP.summary`; its repr is one line (the table was printed)."""

    def __repr__(self) -> str:
        first = self.split("\n", 1)[0]
        return f"<summary: {first}>"


def _one_of(value: Any, alias: Any, name: str, alias_name: str) -> Any:
    """The value of a parameter that has an alias; both given is an error."""
    if alias is None:
        return value
    if value is not None:
        raise ValueError(f"give {name} or its alias {alias_name}, not both")
    return alias


def _n_train_rows(X: np.ndarray, validation_split: Any, validation_data: Any) -> int:
    """Rows fit trains on (X less a validation split), for default_epochs."""
    n = int(X.shape[0]) if hasattr(X, "shape") and len(X.shape) else len(X)
    if validation_data is None and isinstance(validation_split, float) and 0 < validation_split < 1:
        n -= int(round(n * validation_split))
    return max(n, 1)


def parse_layers(layers: Union[str, Sequence[int]]) -> list[int]:
    """Return layer widths from ``[784, 16, 16, 10]`` or ``"784-16-16-10"``."""
    if isinstance(layers, str):
        tokens = [t.strip() for t in layers.replace(",", "-").split("-")]
        if not all(t.isdigit() for t in tokens):
            raise ValueError(f"layers must look like '784-16-16-10'; got {layers!r}")
        layers = [int(t) for t in tokens]
    try:
        sizes = [int(s) for s in layers]
    except (TypeError, ValueError):
        raise ValueError(f"layers must be a sequence of positive ints; got {layers!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"layers needs at least an input and an output width; got {sizes}")
    if len(sizes) > 65:
        raise ValueError(f"layers: at most 64 weight layers are supported; got {len(sizes) - 1}")
    if any(isinstance(s, bool) or s < 1 for s in sizes) or any(
        not float(s0).is_integer() for s0 in layers
    ):
        raise ValueError(f"layers must be positive ints; got {list(layers)}")
    return sizes


class MLP(TargetsMixin, _fit.TrainingMixin):
    """A fully connected feed-forward network trained by backpropagation in C.

    Parameters
    ----------
    layers : sequence of int or str, optional
        All the widths from input to output, e.g. ``[784, 16, 16, 10]`` or
        ``"784-16-16-10"``.  The network is built (and its weights drawn) at
        construction, so its parameters can be inspected and set before fit;
        fit checks that the data has these widths.
    hidden : sequence of int or str, optional
        The hidden widths only, e.g. ``[64]`` or ``"128-64"`` (``[]``: no
        hidden layer).  The input and output widths come from the data at
        the first fit (the number of features; the number of classes, or of
        target columns), as in scikit-learn and Keras; the weights are drawn
        then.  Give ``layers`` or ``hidden``, not both; with neither,
        ``hidden=(128, 128)``.
    activation : str or sequence of str, default='relu'
        Hidden-layer activation, one for all or one per hidden layer: 'identity',
        'step', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'gelu' (exact, with erf),
        'gelu_tanh' (its tanh approximation), 'silu', 'elu',
        'selu' or 'softplus', each as ``torch.nn.functional`` defines it (see
        the layers guide).
    output_activation : str, optional
        Output activation; by default the one the loss implies ('softmax' for
        'cce', 'sigmoid' for 'bce', 'identity' for 'mse'/'mae').  With 'mse' or
        'mae' any hidden activation may serve, e.g. 'softplus' for positive
        targets.
    loss : str, default='auto'
        'mse' (mean of squared errors over samples and outputs), 'mae', 'bce'
        (sigmoid output, stable from logits, averaged like 'mse'), 'cce'
        (softmax output; summed over classes, averaged over samples),
        'quadratic' (the textbook 1/(2n) sum ||y - a||^2), 'huber'
        (``torch.nn.HuberLoss``: r^2/2 for ``|r| < huber_delta``, else
        huber_delta*(``|r|`` - huber_delta/2), r = output - target) or 'quantile' (the
        pinball loss of the levels ``quantile``, one per output); 'huber' and
        'quantile' average over samples and outputs, as torch's reduction='mean'.
        'auto' decides at the first fit: class labels give
        'cce' ('bce' with one output), real-valued targets give 'mse'.
    leaky_slope : float or sequence of float, default=0.01
        Negative-side slope of 'leaky_relu' (>= 0): one for all layers, or one
        per hidden layer (optionally followed by the output layer's, else
        0.01).  ``leaky_relu_slope`` (the drop-ins' name) is accepted for it.
    init : str or callable, default='sklearn'
        Weight initialisation.  'sklearn' (the default) draws weights and
        biases uniformly in +-sqrt(6 / (fan_in + fan_out)) (2 instead of 6
        for sigmoid), as scikit-learn's MLP does; the random biases spread the
        ReLU kinks over the inputs' range, which a regression on few inputs
        needs (with zero biases every first-layer kink sits at the origin).
        'auto' is He for (leaky) ReLU and Glorot otherwise, with zero biases;
        'he_uniform', 'glorot_uniform' force one of them.  'normal' (N(0,
        0.05^2)), 'lecun_normal' (N(0, 1/fan_in)), 'orthogonal'
        (``torch.nn.init.orthogonal_``) or a callable ``init(shape, rng) -> array``
        drawing each (fan_in, fan_out) weight matrix from the model's seeded
        generator: see :mod:`fastmlp.initializers`; biases start at zero.
    dtype : {float32, float64}, default=float32
        Precision of parameters and computation.
    compute_dtype : {None, 'float32', 'float64', 'bfloat16'}, default=None
        Precision of the training products (Keras's name).  None is ``dtype``.
        'bfloat16' (mixed precision; aliases 'bf16', 'mixed_bfloat16') needs
        ``dtype=float32``: each dense layer's three products in training
        (x.W, the delta through W^T, x^T.delta) take bf16 operands with float32
        accumulation -- vdpbf16ps on CPUs with AVX512_BF16, an emulation giving
        the same bits elsewhere -- while the weights, optimizer state, loss and
        updates stay float32.  Inference (predict, evaluate, validation) runs
        in float32 on the float32 weights.  See docs/guide/precision.md.
    seed : int, optional
        Seeds weight initialisation, shuffling, dropout and input noise.
    n_threads : int, optional
        Threads for the kernels; None uses every usable CPU.
    dropout : float or sequence of float, default=0
        Inverted-dropout rate in [0, 1) after each hidden layer (one for all,
        or one per hidden layer), in training only: each hidden unit is zeroed
        with that probability and the kept ones scaled by 1/(1-rate), so
        inference uses the whole network unscaled.  The masks come from a
        counter-based RNG keyed by (seed, step, layer, unit), reproducible
        for a seed.
    input_noise : float, default=0
        Standard deviation of Gaussian noise added to the inputs in training.
    norm : {'batch', 'layer', None} or sequence of them, default=None
        Normalisation of each hidden layer (one for all, or one per hidden
        layer), between its affine map and its activation:
        ``act(norm(x @ W + b))``.  'batch' is ``torch.nn.BatchNorm1d``
        (statistics of each unit over the batch in training -- every
        batch then needs 2 or more rows -- and running statistics,
        momentum 0.1, in ``predict``, ``score``, validation and the other
        inference methods); 'layer' is ``torch.nn.LayerNorm`` (statistics
        over each row's units).  Both use eps 1e-5 and a learnable scale
        and shift (``norm_weights_``, ``norm_biases_``, initially 1 and 0),
        trained like the biases: ``l2``/``l1`` skip them, an optimizer's
        ``weight_decay`` reaches them only where it reaches the biases.
    huber_delta : float, default=1.0
        loss='huber': where the quadratic part turns linear (> 0; torch's ``delta``).
    quantile : float or sequence of float, default=0.5
        loss='quantile': the level in (0, 1) each output predicts, one for all
        outputs or one per output.  Output j minimises the mean of
        max(q_j (y - p), (q_j - 1)(y - p)); 0.5 predicts the median (half the MAE).
    elu_alpha : float, default=1.0
        The alpha of 'elu' layers (>= 0): alpha * (exp(z) - 1) for z <= 0.

    Attributes
    ----------
    layers : list of int or None
        All the widths; None until a model given ``hidden`` is first fitted.
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (layers[i], layers[i+1]); views
        into the model's parameter buffer (writable).  Reading them (or
        ``n_params``, ``predict``...) before a ``hidden`` model is built raises
        :class:`fastmlp.exceptions.NotFittedError`.
    intercepts_ : list of ndarray
        Bias vectors (views, writable).
    norm_weights_, norm_biases_ : list of ndarray
        Scale and shift of each normalised hidden layer, in layer order
        (views into the parameter buffer, writable; empty without ``norm``).
    running_mean_, running_var_ : list of ndarray
        Running mean and (unbiased) variance of each batch-normalised hidden
        layer, in layer order (views, writable; empty without batch norm).
    classes_ : ndarray
        Class labels, once fitted on labels.
    history_ : dict of lists
        Per-epoch 'loss' (with the l1/l2 penalties), then 'accuracy' and
        'error_rate' (classification) or 'mse', 'mae', 'r2' (regression),
        running averages over the epoch's batches; the same on the validation
        data with a ``val_`` prefix; 'lr' (of the epoch's last batch) and 'time'
        (seconds).  Appended to by every fit.  With ``optimizer='lbfgs'``, one
        row per L-BFGS iteration: 'loss' (the objective), 'val_*' and 'time'.
    stop_training : bool
        Set it to True from a callback to end training cleanly.
    interrupted_ : bool
        True when the last fit was stopped by KeyboardInterrupt.

    Notes
    -----
    **Defaults.** ``MLP().fit(X, y)`` trains two hidden ReLU layers of 128 units
    (widths in and out from the data), ``init='sklearn'``, Adam at 1e-3, batches of 32,
    for :func:`default_epochs` epochs (about 5,000 steps, 10 to 200).  They reach, with
    nothing but the data: 98% on the embedded digits (scaled to [0, 1]), 97.5-98% on
    MNIST, 88% on Fashion-MNIST, 99.9% on the spirals and an MSE of 0.001 against sin(x)
    on the sine (``tests/test_defaults.py``).

    **Names across fastmlp.** One concept has one name in each interface; where the
    ecosystem an interface mirrors names it otherwise, that name is accepted too (in
    parentheses: an alias of the name before it).  The optimizers (fastmlp.optim) keep
    torch.optim's ``lr``; the drop-ins keep scikit-learn's names, where ``learning_rate`` is the
    schedule and ``learning_rate_init`` the rate.

    =============  ====================  ============  =====================  ======================
    concept        MLP, MLP.fit          optim         drop-ins (sklearn)     CLI (train)
    =============  ====================  ============  =====================  ======================
    layer widths   layers=, hidden=      --            hidden_layer_sizes     --layers, --hidden
    learning rate  learning_rate= (lr=)  lr            learning_rate_init     --lr (--learning-rate)
    leaky slope    leaky_slope=          --            leaky_relu_slope       --leaky-slope
                   (leaky_relu_slope=)
    epochs         epochs=               --            max_iter               --epochs
    L2 penalty     l2=                   weight_decay  alpha                  --l2
    batch size     batch_size=           --            batch_size             --batch-size
    seed           seed=                 --            random_state           --seed
    threads        n_threads=            --            n_threads              --threads
    progress       verbose=              --            verbose, progress_bar  --quiet
    =============  ====================  ============  =====================  ======================

    Examples
    --------
    >>> from fastmlp import MLP
    >>> net = MLP([2, 5, 5, 3])  # (2+1)*5 + (5+1)*5 + (5+1)*3
    >>> net.n_params
    63
    >>> import numpy as np
    >>> net = MLP(hidden=[8], seed=0).fit(np.eye(4), [0, 1, 2, 2], epochs=1, verbose=0)
    >>> net.layers  # 4 features in, 3 classes out
    [4, 8, 3]
    """

    def __init__(self, layers: Union[str, Sequence[int], None] = None, *,
                 hidden: Union[str, Sequence[int], None] = None,
                 activation: Union[str, Sequence[str]] = "relu",
                 output_activation: Optional[str] = None, loss: str = "auto",
                 leaky_slope: Union[float, Sequence[float], None] = None,
                 init: str = "sklearn",
                 dtype: Any = np.float32, seed: Optional[int] = None,
                 n_threads: Optional[int] = None,
                 dropout: Union[float, Sequence[float]] = 0.0, input_noise: float = 0.0,
                 leaky_relu_slope: Union[float, Sequence[float], None] = None,
                 norm: Union[str, Sequence[Optional[str]], None] = None,
                 huber_delta: float = 1.0,
                 quantile: Union[float, Sequence[float]] = 0.5,
                 compute_dtype: Optional[str] = None,
                 elu_alpha: float = B.ELU_ALPHA) -> None:
        if layers is not None and hidden is not None:
            raise ValueError("give layers (all the widths, e.g. [64, 128, 10]) or hidden (the "
                             "hidden widths only, e.g. [128]), not both")
        self.hidden: Optional[list[int]] = None
        if layers is None:
            self.hidden = self._parse_hidden(DEFAULT_HIDDEN if hidden is None else hidden)
            self.layers: Optional[list[int]] = None
            n_hidden = len(self.hidden)
        else:
            try:
                self.layers = parse_layers(layers)
            except ValueError as exc:
                if isinstance(layers, (list, tuple)) and len(layers) == 1:
                    raise ValueError(f"{exc}; for hidden widths only (input and output from "
                                     f"the data) use MLP(hidden={list(layers)})") from None
                raise
            n_hidden = len(self.layers) - 2
        acts = as_list(activation, n_hidden, "activation", "a str or one str per hidden layer")
        if len(acts) != n_hidden:
            raise ValueError(f"activation: {n_hidden} hidden layers need {n_hidden} activations; "
                             f"got {len(acts)}")
        self.activations = [B.canonical(a, {k: 0 for k in B.HIDDEN_ACTIVATIONS},
                                        B.ACTIVATION_ALIASES, "hidden activation") for a in acts]
        if leaky_slope is not None and leaky_relu_slope is not None:
            raise ValueError("give leaky_slope or its alias leaky_relu_slope, not both")
        slope = leaky_relu_slope if leaky_relu_slope is not None else leaky_slope
        self.leaky_slope = check_leaky_slope(0.01 if slope is None else slope, n_hidden,
                                             "leaky_slope" if leaky_relu_slope is None
                                             else "leaky_relu_slope")
        self.elu_alpha = check_nonneg_float(elu_alpha, "elu_alpha")
        self.init = _inits.check_init(init)
        self.dtype = check_dtype(dtype)
        self.compute_dtype = check_compute_dtype(compute_dtype, self.dtype)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be an int or None; got {seed!r}")
        self.seed = seed
        self.n_threads = resolve_threads(n_threads, core.max_threads())
        self._rng = np.random.default_rng(seed)
        self.huber_delta = check_nonneg_float(huber_delta, "huber_delta", positive=True)
        self.quantile = check_quantile(quantile)
        self.loss = "auto" if loss == "auto" else B.canonical(loss, B.LOSSES, B.LOSS_ALIASES, "loss")
        self.output_activation: Optional[str] = None
        if output_activation is not None:
            self.output_activation = B.canonical(output_activation, B.ACTIVATIONS,
                                                 B.ACTIVATION_ALIASES, "output activation")
        if self.loss != "auto" and self.layers is not None:
            self._resolve_output(self.loss)
        self.dropout = check_dropout(dropout, n_hidden)
        self.input_noise = check_nonneg_float(input_noise, "input_noise")
        self.norms: list[Optional[str]] = check_norm(norm, n_hidden)
        self._norm_state: Optional[np.ndarray] = None  # batch norms' running mean, var
        # keys the C counter RNG of dropout and noise; drawn without touching _rng
        self._noise_seed = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])
        self.classes_: Optional[np.ndarray] = None
        self.history_: dict[str, list] = {}
        self._opt_state: Optional[dict] = None
        self.stop_training = False
        self.interrupted_ = False
        self._params: Optional[np.ndarray] = None
        if self.layers is not None:
            self._build()

    @staticmethod
    def _parse_hidden(hidden: Union[str, Sequence[int]]) -> list[int]:
        """The hidden widths of ``hidden=`` ([] for none), checked by parse_layers."""
        if isinstance(hidden, str):
            spec = hidden.strip()
            return [] if not spec else parse_layers(f"1-{spec}-1")[1:-1]
        if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
            hidden = [hidden]
        try:
            widths = list(hidden)
        except TypeError:
            raise ValueError(f"hidden must be a sequence of positive ints (e.g. [128, 64]) or a "
                             f"string like '128-64'; got {hidden!r}") from None
        try:
            return parse_layers([1, *widths, 1])[1:-1]
        except ValueError:
            raise ValueError(f"hidden must be positive ints (e.g. [128, 64]); "
                             f"got {widths}") from None

    def _build(self) -> None:
        """Allocate the parameters for ``self.layers`` and draw them."""
        norms = np.asarray([B.NORMS[k] for k in self.norms], dtype=np.int32)
        sizes = np.asarray(self.layers, dtype=np.int64)
        self._params = np.zeros(sum((i + 1) * o for i, o in self._shapes())
                                + sum(2 * o for (_, o), k in zip(self._shapes(), self.norms) if k),
                                dtype=self.dtype)
        self._norm_state = np.zeros(core.norm_state_size(sizes, norms), dtype=self.dtype)
        self.reset_parameters()

    @property
    def built(self) -> bool:
        """True once the widths are known and the weights drawn (at construction with
        ``layers``, at the first fit with ``hidden``)."""
        return self.layers is not None

    def _require_built(self, what: str) -> None:
        if self.layers is None:
            raise not_fitted(f"This MLP is not fitted yet: its input and output widths come "
                             f"from the data at the first fit. Call fit(X, y) before {what}.")

    def _build_from_data(self, X: Any, y: Any) -> np.ndarray:
        """First fit of a ``hidden`` model: take the widths from (X, y), build; return X checked."""
        X = check_X(X, self.dtype, None, finite=False,  # fit checks the values batch by batch
                    accept_sparse=True)
        self.layers = [int(X.shape[1]), *self.hidden, _n_outputs(y, self.loss)]
        if self.loss != "auto":
            self._resolve_output(self.loss)
        self._build()
        return X

    # ------------------------------------------------------------------ structure
    def _shapes(self) -> list[tuple[int, int]]:
        self._require_built("reading its layers")
        return [(self.layers[i], self.layers[i + 1]) for i in range(len(self.layers) - 1)]

    def _resolve_output(self, loss: str) -> None:
        fused = B.LOSS_OUTPUT.get(loss)
        if fused is not None:
            if self.output_activation not in (None, fused):
                raise ValueError(f"loss {loss!r} is computed from logits fused with a {fused!r} "
                                 f"output; output_activation={self.output_activation!r} conflicts")
            self.output_activation = fused
        elif self.output_activation is None:
            self.output_activation = "identity"
        if self.output_activation == "softmax" and loss != "cce":
            raise ValueError("a softmax output is only supported with loss='cce'")
        if loss == "cce" and self.layers[-1] < 2:
            raise ValueError("loss 'cce' (softmax) needs at least 2 outputs; use 'bce' for one")
        if loss == "quantile":
            check_quantile(self.quantile, self.layers[-1])
        self.loss = loss

    @property
    def n_params(self) -> int:
        """Number of weights and biases (and the norms' scales and shifts)."""
        self._require_built("counting its parameters")
        return int(self._params.size)

    @property
    def n_weights(self) -> int:
        """Number of weights (biases excluded)."""
        return sum(i * o for i, o in self._shapes())

    def _layer_slopes(self) -> list[float]:
        """The leaky-ReLU slope of every weight layer (the output's last)."""
        n = len(self.activations) + 1
        if isinstance(self.leaky_slope, list):
            return (self.leaky_slope + [0.01])[:n]
        return [self.leaky_slope] * n

    def _net_arrays(self, last_act: Optional[str] = None):
        names = [*self.activations, last_act or self.output_activation or "identity"]
        acts = [B.ACTIVATIONS[a] for a in names]
        slopes = B.act_params(names, self._layer_slopes(), self.elu_alpha)
        return (np.asarray(self.layers, dtype=np.int64), np.asarray(acts, dtype=np.int32), slopes)

    def _act_label(self, l: int, name: str) -> str:
        """Layer l's activation as summary() shows it, with its parameter."""
        if name == "leaky_relu":
            return f"leaky_relu({self._layer_slopes()[l]:g})"
        return f"elu(alpha={self.elu_alpha:g})" if name == "elu" else name

    def _norm_arrays(self) -> tuple:
        """(norm kinds as int32 enum fm_norm, running statistics) for the C calls, or
        (None, None) without normalisation."""
        if not any(self.norms):
            return None, None
        return (np.asarray([B.NORMS[k] for k in self.norms], dtype=np.int32),
                self._norm_state)

    def _norm_views(self) -> tuple:
        """(scales, shifts, running means, running variances) as views (see norm_weights_)."""
        off = sum((i + 1) * o for i, o in self._shapes())
        g, b, m, v, st = [], [], [], [], 0
        for (_, o), kind in zip(self._shapes(), self.norms):
            if kind is None:
                continue
            g.append(self._params[off:off + o])
            b.append(self._params[off + o:off + 2 * o])
            off += 2 * o
            if kind == "batch":
                m.append(self._norm_state[st:st + o])
                v.append(self._norm_state[st + o:st + 2 * o])
                st += 2 * o
        return g, b, m, v

    def _set_norm(self, which: int, name: str, values: Sequence[Any]) -> None:
        """Copy ``values`` into the views ``_norm_views()[which]`` (checked first)."""
        views = self._norm_views()[which]
        if len(values) != len(views):
            raise ValueError(f"{name} needs {len(views)} arrays (one per "
                             f"{'batch-' if which >= 2 else ''}normalised hidden layer); "
                             f"got {len(values)}")
        new = []
        for k, (view, v) in enumerate(zip(views, values)):
            v = np.asarray(v, dtype=np.float64)
            if v.shape != view.shape:
                raise ValueError(f"{name}[{k}] must have shape {view.shape}; got {v.shape}")
            if not np.isfinite(v).all():
                raise ValueError(f"{name}[{k}] contains NaN or infinity")
            if which == 3 and (v < 0).any():
                raise ValueError(f"{name}[{k}] (a variance) has negative values")
            new.append(v)
        for view, v in zip(views, new):
            view[...] = v

    @property
    def norm_weights_(self) -> list[np.ndarray]:
        """Scale (gamma) of each normalised hidden layer, as writable views."""
        self._require_built("reading its norm parameters")
        return self._norm_views()[0]

    @norm_weights_.setter
    def norm_weights_(self, values: Sequence[Any]) -> None:
        self._require_built("setting its norm parameters")
        self._set_norm(0, "norm_weights_", values)
        self._opt_state = None

    @property
    def norm_biases_(self) -> list[np.ndarray]:
        """Shift (beta) of each normalised hidden layer, as writable views."""
        self._require_built("reading its norm parameters")
        return self._norm_views()[1]

    @norm_biases_.setter
    def norm_biases_(self, values: Sequence[Any]) -> None:
        self._require_built("setting its norm parameters")
        self._set_norm(1, "norm_biases_", values)
        self._opt_state = None

    @property
    def running_mean_(self) -> list[np.ndarray]:
        """Running mean of each batch-normalised hidden layer (writable views)."""
        self._require_built("reading its running statistics")
        return self._norm_views()[2]

    @running_mean_.setter
    def running_mean_(self, values: Sequence[Any]) -> None:
        self._require_built("setting its running statistics")
        self._set_norm(2, "running_mean_", values)

    @property
    def running_var_(self) -> list[np.ndarray]:
        """Running (unbiased) variance of each batch-normalised hidden layer (writable views)."""
        self._require_built("reading its running statistics")
        return self._norm_views()[3]

    @running_var_.setter
    def running_var_(self, values: Sequence[Any]) -> None:
        self._require_built("setting its running statistics")
        self._set_norm(3, "running_var_", values)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices as writable views, shape (n_in, n_out) each."""
        return self._views(self._params)[0]

    @coefs_.setter
    def coefs_(self, values: Sequence[Any]) -> None:
        self.set_parameters(values, self.intercepts_)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors as writable views."""
        return self._views(self._params)[1]

    @intercepts_.setter
    def intercepts_(self, values: Sequence[Any]) -> None:
        self.set_parameters(self.coefs_, values)

    def set_parameters(self, coefs: Sequence[Any], intercepts: Sequence[Any]) -> None:
        """Copy weights and biases in (validated first; nothing changes on error)."""
        shapes = self._shapes()
        if len(coefs) != len(shapes) or len(intercepts) != len(shapes):
            raise ValueError(f"expected {len(shapes)} weight matrices and bias vectors; got "
                             f"{len(coefs)} and {len(intercepts)}")
        new = self._params.copy()  # the norms' scales and shifts stay
        cw, cb = self._views(new)
        for l, ((i, o), w, b) in enumerate(zip(shapes, coefs, intercepts)):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if w.shape != (i, o):
                raise ValueError(f"coefs[{l}] must have shape {(i, o)}; got {w.shape}")
            if b.shape != (o,):
                raise ValueError(f"intercepts[{l}] must have shape {(o,)}; got {b.shape}")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValueError(f"coefs[{l}] / intercepts[{l}] contain NaN or infinity")
            cw[l][...], cb[l][...] = w, b
        self._params[...] = new
        self._opt_state = None

    def _views(self, flat: np.ndarray):
        """(weights, biases) as views into a flat buffer laid out like ``_params``:
        every weight matrix, then every bias vector."""
        ws, bs, off = [], [], 0
        for i, o in self._shapes():
            ws.append(flat[off:off + i * o].reshape(i, o))
            off += i * o
        for _, o in self._shapes():
            bs.append(flat[off:off + o])
            off += o
        return ws, bs

    def reset_parameters(self) -> None:
        """Draw fresh initial weights (see ``init``) and forget optimizer state."""
        self._require_built("drawing its weights")
        new = np.zeros_like(self._params)  # committed once every layer is drawn and checked
        ws, bs = self._views(new)
        rng_state = copy.deepcopy(self._rng.bit_generator.state)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                self._draw_parameters(ws, bs)
            if not np.isfinite(new).all():
                raise ValueError(f"init {self.init!r} gave weights that overflow "
                                 f"{self.dtype.name}")
        except BaseException:
            self._rng.bit_generator.state = rng_state
            raise
        self._params[...] = new
        self._reset_norms()
        self._opt_state = None

    def _draw_parameters(self, ws: list, bs: list) -> None:
        """Draw every layer's weights (and biases) into the views ws, bs (see ``init``)."""
        for l, (i, o) in enumerate(self._shapes()):
            if self.init not in _inits.BUILTIN_NAMES:  # fastmlp.initializers' names, callables
                ws[l][...] = _inits.draw(self.init, (i, o), self._rng, l)
                continue
            act = self.activations[l] if l < len(self.activations) else (
                self.activations[-1] if self.activations else "identity")
            if self.init == "sklearn":
                factor = 2.0 if (self.activations and self.activations[0] == "sigmoid") else 6.0
                bound = math.sqrt(factor / (i + o))
                ws[l][...] = self._rng.uniform(-bound, bound, (i, o))
                bs[l][...] = self._rng.uniform(-bound, bound, o)
                continue
            he = self.init == "he_uniform" or (self.init == "auto" and act in ("relu", "leaky_relu")
                                                and l < len(self.activations))
            bound = math.sqrt(6.0 / i) if he else math.sqrt(6.0 / (i + o))
            ws[l][...] = self._rng.uniform(-bound, bound, (i, o))
            bs[l][...] = 0.0

    def _reset_norms(self) -> None:
        """Scales 1, shifts 0, running mean 0 and variance 1 (torch's reset_parameters)."""
        g, b, m, v = self._norm_views()
        for arr, value in ((g, 1.0), (b, 0.0), (m, 0.0), (v, 1.0)):
            for a in arr:
                a[...] = value

    def summary(self, print_fn: Optional[Any] = print) -> str:
        """Print a table of the layers, as Keras's ``model.summary()`` does, and return it.

        One row per layer: its name and type (with its widths), output shape
        (``None`` stands for the batch), parameter count and activation; then
        the totals, with their size in memory.  A model given ``hidden`` and
        not fitted yet shows ``?`` for the widths that come from the data.

        Parameters
        ----------
        print_fn : callable or None, default=print
            Called with the table's text; None only returns it.

        Returns
        -------
        str
            The table (a ``str`` whose ``repr`` is one line, so an interactive
            session does not echo the table a second time).
        """
        widths = (self.layers if self.layers is not None
                  else [None, *self.hidden, None])  # type: ignore[list-item]
        acts = self.activations + [self.output_activation or "(from loss)"]

        def w(v: Optional[int]) -> str:
            return "?" if v is None else str(v)

        def count(v: Optional[int]) -> str:
            return "?" if v is None else f"{v:,}"

        cols = (30, 16, 12)
        line = "_" * 72
        prec = (self.dtype.name if self.compute_dtype == self.dtype.name
                else f"{self.dtype.name}, compute {self.compute_dtype}")
        rows = [f'Model: "MLP" {"-".join(w(v) for v in widths)} ({prec})', line,
                f"{' Layer (type)':<{cols[0]}}{'Output Shape':<{cols[1]}}{'Param #':>{cols[2]}}"
                f"  Activation", "=" * 72,
                f"{' input (Input)':<{cols[0]}}{f'(None, {w(widths[0])})':<{cols[1]}}"
                f"{'0':>{cols[2]}}"]
        total: Optional[int] = 0
        fixed = 0  # running statistics: counted as Keras counts them, not trainable
        for l in range(len(widths) - 1):
            i, o = widths[l], widths[l + 1]
            n = None if i is None or o is None else (i + 1) * o
            total = None if (total is None or n is None) else total + n
            kind = self.norms[l] if l < len(self.norms) else None
            name = f" dense_{l} (Dense {w(i)} -> {w(o)})"
            rows.append(f"{name:<{cols[0]}}{f'(None, {w(o)})':<{cols[1]}}{count(n):>{cols[2]}}"
                        f"  {'-' if kind else self._act_label(l, acts[l])}")
            if kind:  # the norm and then the layer's activation (Keras: BatchNormalization)
                total = None if total is None else total + 2 * o
                fixed += 2 * o if kind == "batch" and o is not None else 0
                name = f" {kind}_norm_{l} ({kind.capitalize()}Norm)"
                shown = None if o is None else (4 if kind == "batch" else 2) * o
                rows.append(f"{name:<{cols[0]}}{f'(None, {w(o)})':<{cols[1]}}"
                            f"{count(shown):>{cols[2]}}  {self._act_label(l, acts[l])}")
        rows.append("=" * 72)
        if total is None:
            rows.append("Total params: ? (the input and output widths come from the data at "
                        "the first fit)")
        else:
            def size(v: int) -> str:
                b = v * self.dtype.itemsize
                return f"{b / 1024 ** 2:.2f} MB" if b >= 1024 ** 2 else f"{b / 1024:.2f} KB"

            rows += [f"Total params: {total + fixed:,} ({size(total + fixed)})",
                     f"Trainable params: {total:,} ({size(total)})",
                     f"Non-trainable params: {fixed:,}"
                     + (f" ({size(fixed)}: batch norm running statistics)" if fixed else "")]
        rows.append(line)
        text = _Summary("\n".join(rows))
        if print_fn is not None:
            print_fn(str(text))
        return text

    def __repr__(self) -> str:
        arch = ("-".join(map(str, self.layers)) if self.layers is not None
                else f"hidden={'-'.join(map(str, self.hidden)) or '[]'}, not built")
        norm = f", norm={self.norms}" if any(self.norms) else ""
        return (f"MLP({arch}, activation={self.activations}{norm}, "
                f"output={self.output_activation}, loss={self.loss}, dtype={self.dtype.name}"
                + (f", compute_dtype={self.compute_dtype}" if self.compute_dtype != self.dtype.name
                   else "") + ")")

    # ------------------------------------------------------------------ training
    def reset_optimizer(self) -> None:
        """Forget the optimizer state (moments, momentum, step): the next fit starts afresh."""
        self._opt_state = None

    @contextlib.contextmanager
    def _built_for(self, X: Any, y: Any, keep: bool = True) -> Iterator[Any]:
        """Build a ``hidden`` model from (X, y) for the block; yield X (checked when built
        here).  On an exception in the block, or always with ``keep=False``, a model built
        here goes back to unbuilt, its RNG and loss as they were."""
        if self.layers is not None:
            yield X
            return
        before = (copy.deepcopy(self._rng.bit_generator.state), self.loss,
                  self.output_activation, self.classes_)
        ok = False
        try:
            yield self._build_from_data(X, y)
            ok = keep
        finally:
            if not ok:
                self._rng.bit_generator.state = before[0]
                self.loss, self.output_activation, self.classes_ = before[1:]
                self.layers, self._params, self._opt_state = None, None, None
                self._norm_state = None

    def fit(self, X: Any, y: Any, *, epochs: Optional[int] = None,
            batch_size: Optional[int] = 32,
            learning_rate: Optional[float] = None, optimizer: Any = "adam",
            momentum: Optional[float] = None, nesterov: Optional[bool] = None, l2: float = 0.0,
            l1: float = 0.0, lr_schedule: Any = None, shuffle: bool = True,
            validation_split: float = 0.0, validation_data: Optional[tuple] = None,
            sample_weight: Any = None, class_weight: Any = None,
            callbacks: Optional[Sequence[Any]] = None, verbose: int = 1,
            lr: Optional[float] = None, metrics: Any = None,
            clip_grad_norm: Optional[float] = None,
            clip_grad_value: Optional[float] = None) -> "MLP":
        """Train by mini-batch gradient descent; return self.

        The first fit of a model given ``hidden`` builds it: the input width
        is X's number of features, the output width the number of classes in
        y (one output for 'bce' on two classes) or of its columns.

        Training continues from the current weights and optimizer state (its
        moments and step carry over between calls while the optimizer's rule
        stays the same; see :meth:`reset_optimizer`).  Ctrl-C stops it cleanly:
        the model keeps the weights of the last completed step and the history
        of the completed epochs, and ``interrupted_`` is set.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
            Finite values.  A sparse X is trained on as CSR (another format is
            converted once), never densified: the first layer reads each
            batch's rows in place (see the sparse-input guide; ``input_noise``
            needs a dense X).  The first epoch checks each batch for NaN and
            infinity right before training on it (instead of a pass over all
            of X up front); a bad value raises ValueError and puts the model
            back exactly as it was before the call (weights, optimizer state,
            RNG, history), though callbacks may have seen the batches before
            it.
        y : array-like
            Class labels (1-D), or targets of shape (n_samples, n_outputs).
        epochs : int or None, default=None
            None picks enough epochs for about 5,000 update steps, at least 10
            and at most 200 (:func:`default_epochs`): 10 for MNIST, about 110
            for the 1,797 digits.
        batch_size : int or None, default=32
            None (or >= n_samples) is full-batch gradient descent, 1 is
            stochastic, anything between is mini-batch.
        learning_rate : float, optional
            The rate for an optimizer given by name; by default the
            optimizer's own (1e-3 for 'adam' and 'adamw', 1e-2 for 'rmsprop'
            and 'adagrad', 0.01 for 'sgd').  ``lr`` is accepted for it.  With
            an optimizer object, set ``lr`` on it instead.
        optimizer : str or fastmlp.optim.Optimizer, default='adam'
            'sgd', 'adagrad', 'rmsprop', 'adam', 'adamw' (torch.optim's rules
            and defaults) or an object such as ``Adam(lr=1e-3)``.  'lbfgs' (or
            :class:`fastmlp.optim.LBFGS`) is full-batch L-BFGS (needs scipy):
            ``epochs`` is then its iteration limit (None: 200) and the history
            gains one row per iteration.
        momentum, nesterov : float, bool, optional
            For optimizer='sgd' (and momentum for 'rmsprop').
        l2 : float, default=0
            L2 penalty 0.5*l2*||W||^2 on the weights (biases excluded), part
            of the reported loss; see also the optimizers' ``weight_decay``.
        l1 : float, default=0
            L1 penalty l1*||W||_1 on the weights (biases excluded).
        lr_schedule : str or fastmlp.schedules.LRSchedule, optional
            'constant', 'step', 'exponential', 'invscaling', 'plateau',
            'one_cycle', 'cosine', 'linear', or a schedule object (such as
            ``CosineAnnealingLR(interval='batch')``); scales the optimizer's rate.
        shuffle : bool, default=True
            Reshuffle the samples every epoch.
        validation_split : float, default=0
            Fraction of (X, y) held out (the last rows, before shuffling) and
            evaluated after each epoch; ignored when validation_data is given.
        validation_data : tuple (X_val, y_val), optional
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights: each batch's loss is sum(w*l)/sum(w).
        class_weight : dict or 'balanced', optional
            Per-class weights multiplying sample_weight; 'balanced' is
            n_samples / (n_classes * count(class)).
        callbacks : list of fastmlp.callbacks.Callback, optional
            E.g. EarlyStopping, ModelCheckpoint (see fastmlp.callbacks).
        verbose : int, default=1
            0 prints nothing; 1 shows progress bars on a terminal or notebook
            and one line per epoch otherwise; 2 always one line per epoch.
        lr : float, optional
            Alias of ``learning_rate`` (torch's and the optimizers' name).
        metrics : callable, list of callables or dict of str to callable, optional
            Your own metrics, each ``f(y_true, y_pred) -> float`` as scikit-learn's
            (``y_pred`` as :meth:`predict` returns it: labels or values), recorded
            in ``history_`` after every epoch under the function's ``__name__`` (or
            the dict's key): on the whole training set with the epoch's final
            weights, and with a ``val_`` prefix on the validation data.  A metric
            that raises stops the fit (the model is put back as it was before the
            call) with the metric named in the exception's notes; one that returns
            anything but a finite number raises ValueError.
        clip_grad_norm : float, optional
            Scale each step's gradient (every weight and bias together) down to this
            L2 norm when it is longer, as ``torch.nn.utils.clip_grad_norm_`` (factor
            ``clip_grad_norm / (norm + 1e-6)``).  It clips the loss's gradient:
            ``l2``/``l1`` and an optimizer's ``weight_decay`` are added after, as
            torch.optim adds weight_decay after clipping.
        clip_grad_value : float, optional
            Clamp each gradient entry to [-clip_grad_value, clip_grad_value]
            (``torch.nn.utils.clip_grad_value_``); not together with clip_grad_norm.

        Returns
        -------
        self : MLP
        """
        learning_rate = _one_of(learning_rate, lr, "learning_rate", "lr")
        with self._built_for(X, y) as X:
            if epochs is None and as_lbfgs(optimizer) is not None:
                epochs = _LBFGS_MAX_ITER
            if epochs is None:
                epochs = default_epochs(_n_train_rows(X, validation_split, validation_data),
                                        batch_size)
            _fit.run_fit(self, X, y, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, optimizer=optimizer, momentum=momentum,
                         nesterov=nesterov, l2=l2, l1=l1, lr_schedule=lr_schedule,
                         shuffle=shuffle, validation_split=validation_split,
                         validation_data=validation_data, sample_weight=sample_weight,
                         class_weight=class_weight, callbacks=callbacks, verbose=verbose,
                         metrics=metrics, clip_grad_norm=clip_grad_norm,
                         clip_grad_value=clip_grad_value)
        return self

    def fit_one_cycle(self, X: Any, y: Any, epochs: Optional[int] = None,
                      max_lr: Optional[float] = None, *,
                      pct_start: float = 0.25, div: float = 25.0, div_final: float = 1e5,
                      moms: Sequence[float] = (0.95, 0.85, 0.95), **fit_kwargs: Any) -> "MLP":
        """fit with the 1cycle policy (fastai's ``fit_one_cycle``); see
        :class:`fastmlp.schedules.OneCycle`.  ``max_lr`` defaults to the
        optimizer's rate; other keywords go to :meth:`fit`."""
        from fastmlp.schedules import OneCycle

        sched = OneCycle(max_lr=max_lr, pct_start=pct_start, div=div, div_final=div_final,
                         moms=moms)
        return self.fit(X, y, epochs=epochs, lr_schedule=sched, **fit_kwargs)

    def lr_find(self, X: Any, y: Any, *, start_lr: float = 1e-7, end_lr: float = 10.0,
                num_it: int = 100, optimizer: Any = "adam", batch_size: int = 32,
                stop_div: bool = True, l2: float = 0.0, l1: float = 0.0,
                sample_weight: Any = None, class_weight: Any = None):
        """Learning-rate range test (fastai's ``lr_find``): train ``num_it``
        batches with the rate growing exponentially from start_lr to end_lr,
        record the loss of each, then put the model back as it was.

        Returns a :class:`fastmlp.schedules.LRFinderResult` (``lrs``,
        smoothed ``losses``, ``raw_losses``, ``suggestion``; ``.plot(path)``).
        It stops early once the smoothed loss exceeds 4x its minimum
        (``stop_div``).  The optimizer's own lr is ignored.  A model given
        ``hidden`` and not fitted yet is built for the test and unbuilt after.
        """
        with self._built_for(X, y, keep=False) as X:
            return _fit.run_lr_find(self, X, y, start_lr=start_lr, end_lr=end_lr, num_it=num_it,
                                    optimizer=optimizer, batch_size=batch_size,
                                    stop_div=stop_div, l2=l2, l1=l1,
                                    sample_weight=sample_weight, class_weight=class_weight)

    # ------------------------------------------------------------------ persistence
    def save(self, path: Union[str, "os.PathLike[str]"]) -> str:
        """Save architecture, weights, optimizer state and history to one ``.npz``
        (atomically); return the path written.  See :mod:`fastmlp.io`."""
        self._require_built("saving it")
        return _io.save(self, path)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], n_threads: Optional[int] = None) -> "MLP":
        """Load a model written by :meth:`save` (no pickle).  See :mod:`fastmlp.io`."""
        return _io.load(path, n_threads=n_threads)

    def quantize(self, precision: str = "int8", X_calibration: Any = None):
        """Return a :class:`fastmlp.QuantizedMLP` of this fitted model for fast inference.

        Parameters
        ----------
        precision : {'int8', 'bfloat16'}, default='int8'
            'int8': weights rounded to int8 with one scale per output channel
            (symmetric), activations to uint8 with a zero point, products in
            integers (AVX512_VNNI / AVX-VNNI / AVX2 / C), the dequantisation,
            bias and activation fused after them.  'bfloat16': weights and
            activations rounded to bfloat16, sums in float32.
        X_calibration : array-like of shape (n_samples, n_features), optional
            int8 only.  None quantises each layer's input rows at run time (one
            scale and zero point per row); with data, one scale and zero point
            per layer, from the range of that layer's inputs over this data
            through the float network.

        Returns
        -------
        fastmlp.QuantizedMLP
            With ``predict``, ``predict_proba``, ``score``, ``save``/``load``.
            See docs/guide/deployment.md for the accuracy measured on MNIST.
        """
        from fastmlp.quantize import quantize

        return quantize(self, precision, X_calibration)

    def to_onnx(self, path: Union[str, "os.PathLike[str]", None] = None, *,
                opset: int = 17) -> Any:
        """Write this network as an ONNX graph (needs ``onnx``). See :func:`fastmlp.export.to_onnx`."""
        from fastmlp.export import to_onnx

        return to_onnx(self, path, opset=opset)

    def export_c(self, path: Union[str, "os.PathLike[str]"], name: str = "model") -> tuple:
        """Write this network as one C99 file and its header. See :func:`fastmlp.export.export_c`."""
        from fastmlp.export import export_c

        return export_c(self, path, name)

    # ------------------------------------------------------------------ inference
    def _forward(self, X: np.ndarray, last_act: Optional[str] = None) -> np.ndarray:
        sizes, acts, slopes = self._net_arrays(last_act)
        norms, state = self._norm_arrays()
        final = int(acts[-1])
        acts[-1] = B.ACTIVATIONS["identity"]  # logits first: their finite check, then act
        bs = min(X.shape[0], _PREDICT_CHUNK)
        work = np.empty(core.workspace_size(sizes, acts, slopes, bs, norms), dtype=self.dtype)
        out = np.empty((X.shape[0], self.layers[-1]), dtype=self.dtype)
        B.forward_net(out, work, self._params, sizes, acts, slopes, X, bs, self.n_threads,
                      norms, state)
        check_forward_output(out, what="output logits")  # finite X, non-finite logits: overflow
        if final != B.ACTIVATIONS["identity"]:
            core.act_forward(out, final, float(slopes[-1]))
        return out

    def _check_ready(self) -> None:
        self._require_built("using it for predictions")
        if self.loss == "auto":
            raise not_fitted("This MLP is not fitted yet: its loss is still 'auto' (decided by "
                             "the first targets); fit it first or pass loss=...")

    def forward(self, X: Any) -> np.ndarray:
        """Return the raw network output (after the output activation)."""
        self._require_built("using it for predictions")
        X = check_X(X, self.dtype, self.layers[0], accept_sparse=True)
        return self._forward(X, None if self.output_activation else "identity")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities, shape (n_samples, n_classes).

        Inference (this, :meth:`forward`, :meth:`predict`, :meth:`evaluate`,
        :meth:`score`) raises :class:`fastmlp.ForwardOverflowError` when the
        forward pass of a finite X overflows to infinity or NaN (X or the
        weights too large for the dtype), or warns and returns the non-finite
        values under ``fastmlp.errstate(overflow='warn')``."""
        self._check_ready()
        if self.loss not in ("cce", "bce"):
            raise ValueError(f"predict_proba needs a classification loss ('cce' or 'bce'); this model "
                             f"uses {self.loss!r}")
        p = self.forward(X)
        if self.loss == "bce" and p.shape[1] == 1:
            p = np.hstack([1 - p, p])
        return p

    def predict(self, X: Any) -> np.ndarray:
        """Return class labels (classification) or predicted values (regression)."""
        self._check_ready()
        return self._decode(self.forward(X))

    def _evaluate_encoded(self, X: np.ndarray, Y: np.ndarray) -> dict:
        from fastmlp._trainer import evaluate

        return evaluate(self, X, Y)

    def evaluate(self, X: Any, y: Any) -> dict:
        """Return the loss and metrics (accuracy/error_rate, or mse/mae/r2) on (X, y)."""
        self._check_ready()
        X = check_X(X, self.dtype, self.layers[0], accept_sparse=True)
        return self._evaluate_encoded(X, self._encode(y, X.shape[0], fitting=False))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R^2 (regression) on (X, y)."""
        self._check_ready()
        if self._is_classifier():
            return self.evaluate(X, y)["accuracy"]
        X = check_X(X, self.dtype, self.layers[0], accept_sparse=True)
        Y = check_y_2d(y, np.float64, X.shape[0], self.layers[-1])
        P = self._forward(X).astype(np.float64)
        ss_res = ((Y - P) ** 2).sum(axis=0)
        ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0.0)
        return float(r2.mean())


_io.register("fastmlp.MLP", MLP)  # fastmlp.io builds MLPs from files without importing this module
