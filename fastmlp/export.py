"""Take a trained network out of Python: an ONNX graph, or one dependency-free C99 file.

Both exporters read the network as one list of inference steps (:func:`inference_steps`):
dense layers, element-wise activations and the output head, so that what they write
computes what ``predict_proba`` / ``predict`` compute.

* :func:`to_onnx` builds the graph with the optional ``onnx`` package
  (``pip install "fastmlp[onnx]"``); inputs ``X`` (float32, ``(n, n_features)``),
  outputs ``probabilities`` and ``label`` (classifiers) or ``output`` (regressors).
* :func:`export_c` writes ``<name>.c`` and ``<name>.h``: the weights as constant
  arrays and ``<name>_predict_proba`` / ``<name>_predict`` over row-major float32
  rows; C99 and ``<math.h>`` only.

Models in float64 are exported in float32 (weights rounded once); the exported
network then agrees with ``predict_proba`` to float32 precision
(:data:`fastmlp.testing.EXPORT_F64_RTOL`), not bit for bit.
"""
from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np

__all__ = ["to_onnx", "export_c", "inference_steps", "Step"]

#: activations both exporters know, by fastmlp's canonical names
ACTIVATIONS = ("identity", "step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax",
               "gelu", "gelu_tanh", "silu", "elu", "selu", "softplus", "exp")
#: scikit-learn's activation names -> fastmlp's
_SKLEARN_ACTS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                 "softmax": "softmax", "exp": "exp"}
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@dataclass
class Step:
    """One step of the inference pass.

    ``kind`` is ``'dense'`` (``y = x @ W + b``; ``W`` (in, out) float32),
    ``'act'`` (element-wise or row-wise ``name`` with its ``param``: the leaky
    slope or ELU's alpha), ``'affine'`` (``y = x * scale + shift`` per column:
    a batch normalisation at inference), ``'layernorm'`` (per row, ``eps``,
    then ``* scale + shift``), ``'qdense'`` (an int8 layer of a
    :class:`fastmlp.QuantizedMLP`: ``W`` int8, ``scale`` the weight scale per
    column, ``xscale``/``xzp`` the static input quantisation or 0 for per-row)
    or ``'bdense'`` (a bfloat16 layer: ``W`` holds bfloat16 values as float32,
    the input is rounded to bfloat16 first).
    """
    kind: str
    W: Optional[np.ndarray] = None
    b: Optional[np.ndarray] = None
    name: str = ""
    param: float = 0.0
    scale: Optional[np.ndarray] = None
    shift: Optional[np.ndarray] = None
    eps: float = 0.0
    xscale: float = 0.0
    xzp: int = 0


@dataclass
class _Net:
    steps: list = field(default_factory=list)
    n_in: int = 0
    n_out: int = 0
    classifier: bool = False
    binary_one_output: bool = False  # one sigmoid output: probabilities are [1 - p, p]
    classes: Optional[np.ndarray] = None
    source_dtype: Any = np.float32


def _f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def _hidden_norm_steps(model: Any, l: int) -> list:
    """The normalisation after hidden layer l (``norm=`` of fastmlp.MLP), as inference steps."""
    norms = getattr(model, "norm_", None) or getattr(model, "norms", None)
    if not norms or l >= len(norms) or norms[l] in (None, "none"):
        return []
    kind = norms[l]
    # norm_weights_/norm_biases_ hold one array per normalised layer, running_mean_/var_ one
    # per batch-normalised layer, in layer order (fastmlp.MLP's attributes)
    k = sum(1 for n in norms[:l] if n not in (None, "none"))
    kb = sum(1 for n in norms[:l] if n == "batch")
    gamma = np.asarray(model.norm_weights_[k], dtype=np.float64)
    beta = np.asarray(model.norm_biases_[k], dtype=np.float64)
    eps = float(getattr(model, "norm_eps", 1e-5))
    if kind == "batch":
        mean = np.asarray(model.running_mean_[kb], dtype=np.float64)
        var = np.asarray(model.running_var_[kb], dtype=np.float64)
        scale = gamma / np.sqrt(var + eps)
        return [Step("affine", scale=_f32(scale), shift=_f32(beta - mean * scale))]
    if kind == "layer":
        return [Step("layernorm", scale=_f32(gamma), shift=_f32(beta), eps=eps)]
    raise ValueError(f"model: normalisation {kind!r} of hidden layer {l} cannot be exported")


def _from_mlp(model: Any) -> _Net:
    model._check_ready()
    coefs, biases = model.coefs_, model.intercepts_
    n_hidden = len(coefs) - 1
    params = model._net_arrays()[2]  # each layer's activation parameter (leaky slope, ELU alpha)
    steps: list = []
    for l, (W, b) in enumerate(zip(coefs, biases)):
        steps.append(Step("dense", W=_f32(W), b=_f32(b)))
        if l < n_hidden:
            steps += _hidden_norm_steps(model, l)
            steps.append(Step("act", name=model.activations[l], param=float(params[l])))
    out_act = model.output_activation or "identity"
    if out_act != "identity":
        steps.append(Step("act", name=out_act, param=float(params[-1])))
    clf = bool(model._is_classifier())
    return _Net(steps, int(model.layers[0]), int(model.layers[-1]), clf,
                clf and model.loss == "bce" and model.layers[-1] == 1,
                None if model.classes_ is None else np.asarray(model.classes_), model.dtype)


def _from_sklearn_mlp(model: Any) -> _Net:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    hidden = _SKLEARN_ACTS[model.activation]
    steps: list = []
    n = len(model.coefs_)
    for l, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        steps.append(Step("dense", W=_f32(W), b=_f32(b)))
        steps.append(Step("act", name=hidden if l < n - 1 else _SKLEARN_ACTS[model.out_activation_]))
    clf = hasattr(model, "classes_")
    classes = np.asarray(model.classes_) if clf else None
    return _Net(steps, int(model.coefs_[0].shape[0]), int(model.coefs_[-1].shape[1]), clf,
                clf and model.out_activation_ == "logistic" and model.coefs_[-1].shape[1] == 1
                and len(classes) == 2, classes, model.coefs_[0].dtype)


def _from_quantized(model: Any) -> _Net:
    from fastmlp.quantize import bf16_to_f32

    steps: list = []
    n = len(model.qcoefs_)
    static = model.calibration == "static"
    for l, (w, b) in enumerate(zip(model.qcoefs_, model.intercepts_)):
        if model.precision == "int8":
            steps.append(Step("qdense", W=np.ascontiguousarray(w, dtype=np.int8), b=_f32(b),
                              scale=_f32(model.coef_scales_[l]),
                              xscale=float(model.input_scales_[l]) if static else 0.0,
                              xzp=int(model.input_zero_points_[l]) if static else 0))
        else:
            steps.append(Step("bdense", W=_f32(bf16_to_f32(w)), b=_f32(b)))
        if l < n - 1:
            steps.append(Step("act", name=model.activations[l], param=float(model.leaky_slope)))
    out_act = model.output_activation or "identity"
    if out_act != "identity":
        steps.append(Step("act", name=out_act, param=float(model.leaky_slope)))
    clf = bool(model._is_classifier())
    return _Net(steps, int(model.layers[0]), int(model.layers[-1]), clf,
                clf and model.loss == "bce" and model.layers[-1] == 1,
                None if model.classes_ is None else np.asarray(model.classes_), np.float32)


def inference_steps(model: Any) -> _Net:
    """The inference pass of a fitted ``fastmlp.MLP`` or drop-in ``MLPClassifier`` /
    ``MLPRegressor`` as a list of :class:`Step` (weights in float32).

    Raises
    ------
    TypeError
        When ``model`` is none of those.
    fastmlp.NotFittedError
        When it is not fitted.
    ValueError
        When a part of it has no exported form.
    """
    mlp_module = sys.modules.get("fastmlp.mlp")  # imported with fastmlp (no import circle here)
    if mlp_module is not None and isinstance(model, mlp_module.MLP):
        net = _from_mlp(model)
    elif type(model).__name__ in ("MLPClassifier", "MLPRegressor") and \
            type(model).__module__.startswith("fastmlp.sklearn"):
        net = _from_sklearn_mlp(model)
    elif type(model).__name__ == "QuantizedMLP" and type(model).__module__ == "fastmlp.quantize":
        net = _from_quantized(model)
    else:
        raise TypeError(f"model: expected a fitted fastmlp.MLP, fastmlp.QuantizedMLP, "
                        f"fastmlp.sklearn.MLPClassifier or MLPRegressor; got "
                        f"{type(model).__name__}")
    if net.classifier and not net.binary_one_output and net.classes is None \
            and getattr(model, "loss", None) == "bce":
        raise ValueError("model: a multi-label network (several sigmoid outputs without "
                         "classes_) cannot be exported; export its forward pass as a regressor")
    for s in net.steps:
        if s.kind == "act" and s.name not in ACTIVATIONS:
            raise ValueError(f"model: activation {s.name!r} has no exported form")
    if net.classifier and net.classes is not None and net.classes.dtype.kind not in "biu" \
            and net.classes.dtype.kind not in "UO":
        raise ValueError(f"model: classes of dtype {net.classes.dtype} cannot be exported "
                         f"(integers or strings only)")
    return net


# ---------------------------------------------------------------------------- ONNX
def _onnx():
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:  # pragma: no cover - exercised where onnx is absent
        raise ImportError("to_onnx needs the optional 'onnx' package: "
                          "pip install 'fastmlp[onnx]'") from None
    return onnx, TensorProto, helper, numpy_helper


def _onnx_act(helper: Any, s: Step, x: str, out: str, k: int, consts: list) -> list:
    """ONNX nodes computing out = act(x) (opset 17 operators only)."""
    from onnx import numpy_helper

    def const(name: str, value: float) -> str:
        cname = f"c{k}_{name}"
        consts.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), cname))
        return cname

    n = s.name
    if n == "identity":
        return [helper.make_node("Identity", [x], [out])]
    if n in ("sigmoid", "tanh", "relu", "softplus", "exp"):
        op = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softplus": "Softplus",
              "exp": "Exp"}[n]
        return [helper.make_node(op, [x], [out])]
    if n == "leaky_relu":
        return [helper.make_node("LeakyRelu", [x], [out], alpha=float(s.param))]
    if n == "elu":
        return [helper.make_node("Elu", [x], [out], alpha=float(s.param))]
    if n == "selu":
        return [helper.make_node("Selu", [x], [out], alpha=_SELU_ALPHA, gamma=_SELU_SCALE)]
    if n == "softmax":
        return [helper.make_node("Softmax", [x], [out], axis=1)]
    if n == "step":
        g = f"t{k}_gt"
        return [helper.make_node("Greater", [x, const("zero", 0.0)], [g]),
                helper.make_node("Cast", [g], [out], to=1)]
    if n == "silu":
        sg = f"t{k}_sig"
        return [helper.make_node("Sigmoid", [x], [sg]), helper.make_node("Mul", [x, sg], [out])]
    if n == "gelu":  # 0.5 x (1 + erf(x / sqrt 2))
        t = [f"t{k}_{i}" for i in range(3)]
        return [helper.make_node("Mul", [x, const("rsqrt2", 1 / math.sqrt(2))], [t[0]]),
                helper.make_node("Erf", [t[0]], [t[1]]),
                helper.make_node("Add", [t[1], const("one", 1.0)], [t[2]]),
                helper.make_node("Mul", [x, t[2]], [t[0] + "x"]),
                helper.make_node("Mul", [t[0] + "x", const("half", 0.5)], [out])]
    if n == "gelu_tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        t = [f"t{k}_{i}" for i in range(7)]
        return [helper.make_node("Mul", [x, x], [t[0]]),
                helper.make_node("Mul", [t[0], x], [t[1]]),
                helper.make_node("Mul", [t[1], const("c3", 0.044715)], [t[2]]),
                helper.make_node("Add", [x, t[2]], [t[3]]),
                helper.make_node("Mul", [t[3], const("k", math.sqrt(2 / math.pi))], [t[4]]),
                helper.make_node("Tanh", [t[4]], [t[5]]),
                helper.make_node("Add", [t[5], const("one", 1.0)], [t[6]]),
                helper.make_node("Mul", [x, t[6]], [t[6] + "x"]),
                helper.make_node("Mul", [t[6] + "x", const("half", 0.5)], [out])]
    raise ValueError(f"model: activation {n!r} has no ONNX form")  # pragma: no cover


def _onnx_qdense(helper: Any, numpy_helper: Any, TensorProto: Any, s: Step, x: str, out: str,
                 k: int, inits: list) -> list:
    """An int8 layer as fastmlp.reference.qforward_net computes it: the rows to uint8 with
    a zero point (per row, or static), MatMulInteger, the zero point's column-sum term in
    int32, then float32(acc) * (scale * w_scale) + bias."""
    f = lambda v, n: inits.append(numpy_helper.from_array(np.asarray(v), f"q{k}_{n}")) or f"q{k}_{n}"
    t = lambda n: f"{out}_{n}"
    w = f(s.W.astype(np.int8), "w")
    colsum = f(s.W.astype(np.int64).sum(axis=0).astype(np.int32), "colsum")
    ws = f(s.scale.astype(np.float32), "ws")
    b = f(s.b.astype(np.float32), "b")
    zero, one = f(np.float32(0), "zero"), f(np.float32(1), "one")
    n255, lim = f(np.float32(255), "n255"), f(np.float32(1024), "lim")
    nlim = f(np.float32(-1024), "nlim")
    nodes = []
    if s.xscale > 0:
        sc, inv, zp = (f(np.float32(s.xscale), "s"),
                       f(np.float32(1) / np.float32(s.xscale), "inv"),
                       f(np.float32(s.xzp), "zp"))
    else:
        sc, inv, zp = t("s"), t("inv"), t("zp")
        nodes += [helper.make_node("ReduceMin", [x], [t("mn")], axes=[1], keepdims=1),
                  helper.make_node("ReduceMax", [x], [t("mx")], axes=[1], keepdims=1),
                  helper.make_node("Min", [t("mn"), zero], [t("lo")]),
                  helper.make_node("Max", [t("mx"), zero], [t("hi")]),
                  helper.make_node("Sub", [t("hi"), t("lo")], [t("r")]),
                  helper.make_node("Greater", [t("r"), zero], [t("pos")]),
                  helper.make_node("Where", [t("pos"), t("r"), one], [t("rr")]),
                  helper.make_node("Div", [t("rr"), n255], [t("s0")]),
                  helper.make_node("Where", [t("pos"), t("s0"), one], [sc]),
                  helper.make_node("Div", [n255, t("rr")], [t("i0")]),
                  helper.make_node("Where", [t("pos"), t("i0"), one], [inv]),
                  helper.make_node("Neg", [t("lo")], [t("nl")]),
                  helper.make_node("Mul", [t("nl"), inv], [t("z0")]),
                  helper.make_node("Round", [t("z0")], [t("z1")]),
                  helper.make_node("Clip", [t("z1"), zero, n255], [t("z2")]),
                  helper.make_node("Where", [t("pos"), t("z2"), zero], [zp])]
    nodes += [helper.make_node("Mul", [x, inv], [t("v0")]),
              helper.make_node("Clip", [t("v0"), nlim, lim], [t("v1")]),
              helper.make_node("Round", [t("v1")], [t("v2")]),
              helper.make_node("Add", [t("v2"), zp], [t("v3")]),
              helper.make_node("Clip", [t("v3"), zero, n255], [t("v4")]),
              helper.make_node("Cast", [t("v4")], [t("q")], to=TensorProto.UINT8),
              helper.make_node("MatMulInteger", [t("q"), w], [t("acc")]),
              helper.make_node("Cast", [zp], [t("zpi")], to=TensorProto.INT32),
              helper.make_node("Mul", [t("zpi"), colsum], [t("zc")]),
              helper.make_node("Sub", [t("acc"), t("zc")], [t("a2")]),
              helper.make_node("Cast", [t("a2")], [t("af")], to=TensorProto.FLOAT),
              helper.make_node("Mul", [sc, ws], [t("sc")]),
              helper.make_node("Mul", [t("af"), t("sc")], [t("y0")]),
              helper.make_node("Add", [t("y0"), b], [out])]
    return nodes


def to_onnx(model: Any, path: Union[str, "os.PathLike[str]", None] = None, *,
            opset: int = 17) -> Any:
    """Write the fitted network as an ONNX model (float32) and return the ``onnx.ModelProto``.

    Parameters
    ----------
    model : fastmlp.MLP, fastmlp.sklearn.MLPClassifier or MLPRegressor
        A fitted network.
    path : str or path-like, optional
        Where to write the ``.onnx`` file (atomically); ``None`` only returns the model.
    opset : int, default 17
        The ONNX opset to target (17 or newer; every operator used exists since 13,
        LayerNormalization since 17).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (float32, ``(n, n_features)``). A classifier has outputs
        ``label`` (its classes, int64 or string, ``(n,)``) and ``probabilities``
        (float32, ``(n, n_classes)``); a regressor has ``output`` (float32,
        ``(n, n_outputs)``).
    """
    onnx, TensorProto, helper, numpy_helper = _onnx()
    if not isinstance(opset, int) or opset < 17:
        raise ValueError(f"opset must be an int >= 17; got {opset!r}")
    net = inference_steps(model)
    nodes, inits = [], []
    x = "X"
    for k, s in enumerate(net.steps):
        out = f"h{k}"
        if s.kind == "dense":
            inits += [numpy_helper.from_array(s.W, f"W{k}"), numpy_helper.from_array(s.b, f"b{k}")]
            nodes.append(helper.make_node("Gemm", [x, f"W{k}", f"b{k}"], [out]))
        elif s.kind == "qdense":
            nodes += _onnx_qdense(helper, numpy_helper, TensorProto, s, x, out, k, inits)
        elif s.kind == "bdense":
            inits += [numpy_helper.from_array(s.W, f"W{k}"), numpy_helper.from_array(s.b, f"b{k}")]
            nodes += [helper.make_node("Cast", [x], [out + "h"], to=TensorProto.BFLOAT16),
                      helper.make_node("Cast", [out + "h"], [out + "r"], to=TensorProto.FLOAT),
                      helper.make_node("Gemm", [out + "r", f"W{k}", f"b{k}"], [out])]
        elif s.kind == "affine":
            inits += [numpy_helper.from_array(s.scale, f"s{k}"),
                      numpy_helper.from_array(s.shift, f"t{k}")]
            nodes += [helper.make_node("Mul", [x, f"s{k}"], [out + "m"]),
                      helper.make_node("Add", [out + "m", f"t{k}"], [out])]
        elif s.kind == "layernorm":
            inits += [numpy_helper.from_array(s.scale, f"s{k}"),
                      numpy_helper.from_array(s.shift, f"t{k}")]
            nodes.append(helper.make_node("LayerNormalization", [x, f"s{k}", f"t{k}"], [out],
                                          axis=-1, epsilon=float(s.eps)))
        else:
            nodes += _onnx_act(helper, s, x, out, k, inits)
        x = out
    outputs = []
    if net.classifier:
        proba = x
        if net.binary_one_output:
            inits.append(numpy_helper.from_array(np.asarray(1.0, dtype=np.float32), "one"))
            nodes += [helper.make_node("Sub", ["one", x], ["p_neg"]),
                      helper.make_node("Concat", ["p_neg", x], ["probabilities"], axis=1)]
        else:
            nodes.append(helper.make_node("Identity", [proba], ["probabilities"]))
        n_cls = 2 if net.binary_one_output else net.n_out
        nodes.append(helper.make_node("ArgMax", ["probabilities"], ["index"], axis=1, keepdims=0))
        if net.classes is None:
            nodes.append(helper.make_node("Identity", ["index"], ["label"]))
            label_type = TensorProto.INT64
        else:
            cls = net.classes
            if cls.dtype.kind in "UO":
                inits.append(helper.make_tensor("classes", TensorProto.STRING, [len(cls)],
                                                [str(c).encode() for c in cls]))
                label_type = TensorProto.STRING
            else:
                inits.append(numpy_helper.from_array(cls.astype(np.int64), "classes"))
                label_type = TensorProto.INT64
            nodes.append(helper.make_node("Gather", ["classes", "index"], ["label"], axis=0))
        outputs = [helper.make_tensor_value_info("label", label_type, ["n"]),
                   helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", n_cls])]
    else:
        nodes.append(helper.make_node("Identity", [x], ["output"]))
        outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", net.n_out])]
    graph = helper.make_graph(nodes, "fastmlp", [helper.make_tensor_value_info(
        "X", TensorProto.FLOAT, ["n", net.n_in])], outputs, initializer=inits)
    proto = helper.make_model(graph, producer_name="fastmlp", producer_version=_version(),
                              opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnxruntime >= 1.14
    onnx.checker.check_model(proto)
    if path is not None:
        _write_atomic(os.fspath(path), proto.SerializeToString())
    return proto


def _version() -> str:
    return str(getattr(sys.modules.get("fastmlp"), "__version__", "unknown"))


def _write_atomic(path: str, data: Union[bytes, str]) -> None:
    tmp = f"{path}.fastmlp-tmp-{os.getpid()}"
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with open(tmp, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------- C
_C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while".split())


def _c_floats(a: np.ndarray, per_line: int = 8) -> str:
    """float32 values as C literals that read back to the same float (9 significant digits)."""
    vals = [f"{float(v):.9g}" for v in np.asarray(a, dtype=np.float32).ravel()]
    vals = [v + ("f" if any(c in v for c in ".e") else ".0f") for v in vals]
    return ",\n".join("    " + ", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line))


def _c_ints(a: np.ndarray, per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(a).ravel()]
    return ",\n".join("    " + ", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line))


def _c_dense_sum(name: str, k: int, cur: str, nxt: str, n_i: int, n_o: int) -> str:
    """nxt = cur . W_k + b_k, summed in double over the inputs and rounded once: the
    correctly rounded result to well within float32, whatever order fastmlp's kernels
    summed in."""
    return (f"    for (j = 0; j < {n_o}; j++) acc[j] = (double){name}_b{k}[j];\n"
            f"    for (i = 0; i < {n_i}; i++) {{\n"
            f"        const double xi = (double){cur}[i];\n"
            f"        const float *w = {name}_W{k} + (size_t)i * {n_o};\n"
            f"        if (xi == 0.0) continue;\n"
            f"        for (j = 0; j < {n_o}; j++) acc[j] += xi * (double)w[j];\n"
            f"    }}\n"
            f"    for (j = 0; j < {n_o}; j++) {nxt}[j] = (float)acc[j];\n"
            f"    p = {nxt};\n")


def _c_qdense(name: str, k: int, s: Step, cur: str, nxt: str, n_i: int, n_o: int) -> str:
    """An int8 layer, as fastmlp.reference.qforward_net computes it: the row to uint8
    with a zero point (per row, or the static scale), the integer product, then
    float32(acc) * (s * w_scale) + bias, one float32 operation at a time."""
    if s.xscale > 0:
        quant = (f"      s = {_c_floats(np.float32(s.xscale)).strip()};\n"
                 f"      inv = 1.0f / s;\n"
                 f"      z = {int(s.xzp)};\n")
    else:
        quant = (f"      for (i = 0; i < {n_i}; i++) {{\n"
                 f"          if ({cur}[i] < lo) lo = {cur}[i];\n"
                 f"          if ({cur}[i] > hi) hi = {cur}[i];\n"
                 f"      }}\n"
                 f"      r = hi - lo;\n"
                 f"      if (r > 0.0f) {{\n"
                 f"          float nl = -lo;\n"
                 f"          s = r / 255.0f;\n"
                 f"          inv = 255.0f / r;\n"
                 f"          z = (long)rintf(nl * inv);\n"
                 f"          z = z < 0 ? 0 : z > 255 ? 255 : z;\n"
                 f"      }}\n")
    return (f"    {{ float lo = 0.0f, hi = 0.0f, r = 0.0f, s = 1.0f, inv = 1.0f;\n"
            f"      long z = 0;\n"
            + quant +
            f"      (void)lo; (void)hi; (void)r;\n"
            f"      for (i = 0; i < {n_i}; i++) {{\n"
            f"          float v = {cur}[i] * inv;\n"
            f"          long t;\n"
            f"          v = v < -1024.0f ? -1024.0f : v > 1024.0f ? 1024.0f : v;\n"
            f"          t = (long)rintf(v) + z;\n"
            f"          qb[i] = (unsigned char)(t < 0 ? 0 : t > 255 ? 255 : t);\n"
            f"      }}\n"
            f"      for (j = 0; j < {n_o}; j++) ia[j] = 0;\n"
            f"      for (i = 0; i < {n_i}; i++) {{\n"
            f"          const long qi = (long)qb[i];\n"
            f"          const signed char *w = {name}_W{k} + (size_t)i * {n_o};\n"
            f"          if (!qi) continue;\n"
            f"          for (j = 0; j < {n_o}; j++) ia[j] += qi * (long)w[j];\n"
            f"      }}\n"
            f"      for (j = 0; j < {n_o}; j++) {{\n"
            f"          const float t = (float)(ia[j] - z * {name}_c{k}[j]);\n"
            f"          const float sc = s * {name}_s{k}[j];\n"
            f"          const float u = t * sc;\n"
            f"          {nxt}[j] = u + {name}_b{k}[j];\n"
            f"      }}\n"
            f"      p = {nxt}; }}\n")


def _c_act(s: Step, p: str, n: str) -> str:
    """C statements applying s to the row buffer p[0..n) in place."""
    loop = f"for (j = 0; j < {n}; j++) "
    name, a = s.name, f"{float(s.param):.17g}"
    body = {
        "identity": None,
        "step": "p[j] = p[j] > 0.0f ? 1.0f : 0.0f;",
        "sigmoid": "p[j] = p[j] >= 0.0f ? 1.0f / (1.0f + expf(-p[j])) "
                   ": expf(p[j]) / (1.0f + expf(p[j]));",
        "tanh": "p[j] = tanhf(p[j]);",
        "relu": "p[j] = p[j] > 0.0f ? p[j] : 0.0f;",
        "leaky_relu": f"p[j] = p[j] > 0.0f ? p[j] : (float){a} * p[j];",
        "exp": "p[j] = expf(p[j]);",
        "gelu": "p[j] = (float)(0.5 * (double)p[j] * (1.0 + erf((double)p[j] "
                "* 0.70710678118654752440)));",
        "gelu_tanh": "p[j] = (float)(0.5 * (double)p[j] * (1.0 + tanh(0.79788456080286535588 "
                     "* ((double)p[j] + 0.044715 * (double)p[j] * (double)p[j] * (double)p[j]))));",
        "silu": "p[j] = (float)((double)p[j] / (1.0 + exp(-(double)p[j])));",
        "elu": f"p[j] = p[j] > 0.0f ? p[j] : (float)({a} * expm1((double)p[j]));",
        "selu": f"p[j] = (float)({_SELU_SCALE!r} * (p[j] > 0.0f ? (double)p[j] "
                f": {_SELU_ALPHA!r} * expm1((double)p[j])));",
        "softplus": "p[j] = p[j] > 20.0f ? p[j] : (float)log1p(exp((double)p[j]));",
    }
    if name == "softmax":
        return (f"    {{ float m = p[0], t = 0.0f;\n"
                f"      for (j = 1; j < {n}; j++) if (p[j] > m) m = p[j];\n"
                f"      {loop}{{ p[j] = expf(p[j] - m); t += p[j]; }}\n"
                f"      {loop}p[j] /= t; }}\n")
    stmt = body[name]
    return "" if stmt is None else f"    {loop}{stmt}\n"


def export_c(model: Any, path: Union[str, "os.PathLike[str]"], name: str = "model") -> tuple:
    """Write the fitted network as one dependency-free C99 source file and its header.

    Parameters
    ----------
    model : fastmlp.MLP, fastmlp.sklearn.MLPClassifier or MLPRegressor
        A fitted network (float64 models are written in float32).
    path : str or path-like
        The ``.c`` file to write; the header is written beside it with the suffix ``.h``.
    name : str, default "model"
        Prefix of every exported symbol (a C identifier).

    Returns
    -------
    (str, str)
        The paths of the source and the header.

    Notes
    -----
    The file defines, for a classifier::

        int NAME_predict_proba(const float *X, long n_rows, float *out);  /* (n_rows, NAME_N_CLASSES) */
        int NAME_predict(const float *X, long n_rows, long *labels);      /* (n_rows,) */

    and for a regressor ``int NAME_predict(const float *X, long n_rows, float *out)``
    (``(n_rows, NAME_N_OUTPUTS)``). ``X`` is row-major ``(n_rows, NAME_N_FEATURES)``.
    Each returns 0 on success, 1 for a NULL pointer or negative ``n_rows``, 2 for a
    non-finite input value (nothing written from that row on), 3 when memory runs out.
    ``labels`` are the model's classes when they are integers, else class indices
    (the names are in ``NAME_CLASS_NAMES``). Build with ``cc -std=c99 -O2 ... -lm``.
    """
    if not isinstance(name, str) or not _C_IDENT.match(name) or name in _C_KEYWORDS:
        raise ValueError(f"name must be a C identifier (letters, digits, '_'); got {name!r}")
    path = os.fspath(path)
    if not path.endswith(".c"):
        raise ValueError(f"path must name a .c file; got {path!r}")
    net = inference_steps(model)
    header_path = path[:-2] + ".h"
    guard = re.sub(r"[^A-Za-z0-9]", "_", os.path.basename(header_path)).upper()
    up = name.upper()
    n_cls = 2 if net.binary_one_output else net.n_out
    widths = [net.n_in] + [s.W.shape[1] for s in net.steps if s.W is not None]
    h = [f"/* {os.path.basename(header_path)} -- generated by fastmlp {_version()}: "
         f"an MLP {'-'.join(map(str, widths))} as plain C99. */",
         f"#ifndef {guard}", f"#define {guard}", "",
         f"#define {up}_N_FEATURES {net.n_in}"]
    if net.classifier:
        h += [f"#define {up}_N_CLASSES {n_cls}", "",
              "/* X: (n_rows, N_FEATURES) row-major float32. 0 on success; 1 NULL pointer or",
              " * n_rows < 0; 2 non-finite input; 3 out of memory. */",
              f"int {name}_predict_proba(const float *X, long n_rows, float *out);",
              f"/* labels: the classes (or class indices: see {up}_CLASS_NAMES) */",
              f"int {name}_predict(const float *X, long n_rows, long *labels);"]
        if net.classes is not None and net.classes.dtype.kind in "UO":
            h += [f"extern const char *const {up}_CLASS_NAMES[{n_cls}];"]
    else:
        h += [f"#define {up}_N_OUTPUTS {net.n_out}", "",
              "/* X: (n_rows, N_FEATURES) row-major float32; out: (n_rows, N_OUTPUTS). 0 on",
              " * success; 1 NULL pointer or n_rows < 0; 2 non-finite input; 3 out of memory. */",
              f"int {name}_predict(const float *X, long n_rows, float *out);"]
    h += ["", f"#endif /* {guard} */", ""]

    width = max(widths)
    c = [f"/* {os.path.basename(path)} -- generated by fastmlp {_version()}. C99 + libm only. */",
         f'#include "{os.path.basename(header_path)}"', "#include <math.h>", "#include <stdint.h>",
         "#include <stdlib.h>", "#include <string.h>", "",
         "/* float32 operations are written one per statement and must not be fused (FMA):",
         " * the int8 epilogue reproduces fastmlp's bit for bit */",
         "#if defined(__clang__)", "#pragma STDC FP_CONTRACT OFF",
         "#elif defined(__GNUC__)", '#pragma GCC optimize("fp-contract=off")', "#endif", ""]
    body = []
    cur = "a"
    has_q = any(st.kind == "qdense" for st in net.steps)
    if any(st.kind == "bdense" for st in net.steps):
        c += [f"/* float32 rounded to the nearest bfloat16 (ties to even), as float32 */",
              f"static float {name}_bf16(float x)", "{", "    uint32_t u;",
              "    memcpy(&u, &x, sizeof u);",
              "    u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;",
              "    memcpy(&x, &u, sizeof x);", "    return x;", "}", ""]
    for k, s in enumerate(net.steps):
        if s.kind == "dense":
            n_i, n_o = s.W.shape
            c += [f"static const float {name}_W{k}[{n_i * n_o}] = {{", _c_floats(s.W), "};",
                  f"static const float {name}_b{k}[{n_o}] = {{", _c_floats(s.b), "};"]
            nxt = "b" if cur == "a" else "a"
            body.append(_c_dense_sum(name, k, cur, nxt, n_i, n_o))
            cur, n_cur = nxt, n_o
        elif s.kind == "qdense":
            n_i, n_o = s.W.shape
            colsum = s.W.astype(np.int64).sum(axis=0)
            c += [f"static const signed char {name}_W{k}[{n_i * n_o}] = {{",
                  _c_ints(s.W), "};",
                  f"static const long {name}_c{k}[{n_o}] = {{", _c_ints(colsum), "};",
                  f"static const float {name}_s{k}[{n_o}] = {{", _c_floats(s.scale), "};",
                  f"static const float {name}_b{k}[{n_o}] = {{", _c_floats(s.b), "};"]
            nxt = "b" if cur == "a" else "a"
            body.append(_c_qdense(name, k, s, cur, nxt, n_i, n_o))
            cur, n_cur = nxt, n_o
        elif s.kind == "bdense":
            n_i, n_o = s.W.shape
            c += [f"static const float {name}_W{k}[{n_i * n_o}] = {{", _c_floats(s.W), "};",
                  f"static const float {name}_b{k}[{n_o}] = {{", _c_floats(s.b), "};"]
            nxt = "b" if cur == "a" else "a"
            body.append(f"    for (i = 0; i < {n_i}; i++) {cur}[i] = {name}_bf16({cur}[i]);\n"
                        + _c_dense_sum(name, k, cur, nxt, n_i, n_o))
            cur, n_cur = nxt, n_o
        elif s.kind == "affine":
            c += [f"static const float {name}_s{k}[{s.scale.size}] = {{", _c_floats(s.scale), "};",
                  f"static const float {name}_t{k}[{s.shift.size}] = {{", _c_floats(s.shift), "};"]
            body.append(f"    for (j = 0; j < {n_cur}; j++) p[j] = p[j] * {name}_s{k}[j] "
                        f"+ {name}_t{k}[j];\n")
        elif s.kind == "layernorm":
            c += [f"static const float {name}_s{k}[{s.scale.size}] = {{", _c_floats(s.scale), "};",
                  f"static const float {name}_t{k}[{s.shift.size}] = {{", _c_floats(s.shift), "};"]
            body.append(
                f"    {{ double mu = 0.0, var = 0.0, r;\n"
                f"      for (j = 0; j < {n_cur}; j++) mu += p[j];\n"
                f"      mu /= {n_cur};\n"
                f"      for (j = 0; j < {n_cur}; j++) var += (p[j] - mu) * (p[j] - mu);\n"
                f"      r = 1.0 / sqrt(var / {n_cur} + {s.eps!r});\n"
                f"      for (j = 0; j < {n_cur}; j++) p[j] = (float)((p[j] - mu) * r) "
                f"* {name}_s{k}[j] + {name}_t{k}[j]; }}\n")
        else:
            body.append(_c_act(s, "p", str(n_cur)))
    if net.classes is not None and net.classes.dtype.kind in "UO":
        names = ", ".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in net.classes)
        c += [f"const char *const {up}_CLASS_NAMES[{n_cls}] = {{{names}}};"]
    n_final = net.n_out
    c += ["",
          f"/* One row: x (N_FEATURES) -> y ({n_final}), through the buffers a, b and acc"
          + (" (and qb, ia: the int8 layers')" if has_q else "") + ". */",
          f"static void {name}_row(const float *x, float *y, float *a, float *b, double *acc"
          + (", unsigned char *qb, long *ia)" if has_q else ")"),
          "{", "    long i, j;", "    float *p = a;",
          f"    memcpy(a, x, sizeof(float) * {net.n_in});"]
    c += [line for chunk in body for line in chunk.rstrip("\n").split("\n")]
    c += [f"    memcpy(y, p, sizeof(float) * {n_final});", "    (void)i;", "    (void)acc;", "}", "",
          f"/* The rows' outputs ({n_final} each) into out; see the header for the codes. */",
          f"static int {name}_forward(const float *X, long n_rows, float *out)", "{",
          "    long r, i;", "    float *a, *b;", "    double *acc;",
          "    unsigned char *qb = NULL;", "    long *ia = NULL;",
          "    if (!X || !out || n_rows < 0) return 1;",
          f"    a = (float *)malloc(sizeof(float) * {width});",
          f"    b = (float *)malloc(sizeof(float) * {width});",
          f"    acc = (double *)malloc(sizeof(double) * {width});",
          *([f"    qb = (unsigned char *)malloc({width});",
             f"    ia = (long *)malloc(sizeof(long) * {width});",
             "    if (!qb || !ia) { free(a); free(b); free(acc); free(qb); free(ia); return 3; }"]
            if has_q else []),
          "    if (!a || !b || !acc) { free(a); free(b); free(acc); free(qb); free(ia); return 3; }",
          "    for (r = 0; r < n_rows; r++) {",
          f"        const float *x = X + (size_t)r * {net.n_in};",
          f"        for (i = 0; i < {net.n_in}; i++)",
          "            if (!(x[i] - x[i] == 0.0f)) {",
          "                free(a); free(b); free(acc); free(qb); free(ia);",
          "                return 2;", "            }",
          f"        {name}_row(x, out + (size_t)r * {n_final}, a, b, acc"
          + (", qb, ia);" if has_q else ");"),
          "    }", "    free(a); free(b); free(acc); free(qb); free(ia);", "    return 0;", "}", ""]
    if net.classifier:
        c += [f"int {name}_predict_proba(const float *X, long n_rows, float *out)", "{"]
        if net.binary_one_output:
            c += ["    long r;", f"    int rc = {name}_forward(X, n_rows, out);",
                  "    if (rc) return rc;",
                  "    for (r = n_rows - 1; r >= 0; r--) {",
                  "        float p = out[r];", "        out[2 * r + 1] = p;",
                  "        out[2 * r] = 1.0f - p;", "    }", "    return 0;", "}", ""]
        else:
            c += [f"    return {name}_forward(X, n_rows, out);", "}", ""]
        if net.classes is not None and net.classes.dtype.kind in "biu":
            vals = ", ".join(str(int(v)) for v in net.classes)
            c += [f"static const long {name}_classes[{n_cls}] = {{{vals}}};"]
            pick = f"{name}_classes[best]"
        else:
            pick = "best"
        c += [f"int {name}_predict(const float *X, long n_rows, long *labels)", "{",
              "    long r, j;", "    float *p;", "    int rc;",
              "    if (!X || !labels || n_rows < 0) return 1;",
              f"    p = (float *)malloc(sizeof(float) * {n_cls} * (size_t)(n_rows > 0 ? n_rows : 1));",
              "    if (!p) return 3;",
              f"    rc = {name}_predict_proba(X, n_rows, p);",
              "    if (rc) { free(p); return rc; }",
              "    for (r = 0; r < n_rows; r++) {",
              f"        const float *q = p + (size_t)r * {n_cls};",
              "        long best = 0;",
              f"        for (j = 1; j < {n_cls}; j++) if (q[j] > q[best]) best = j;",
              f"        labels[r] = {pick};", "    }", "    free(p);", "    return 0;", "}", ""]
    else:
        c += [f"int {name}_predict(const float *X, long n_rows, float *out)", "{",
              f"    return {name}_forward(X, n_rows, out);", "}", ""]
    _write_atomic(header_path, "\n".join(h))
    _write_atomic(path, "\n".join(c))
    return path, header_path
