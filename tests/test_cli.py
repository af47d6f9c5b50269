"""The command line: training on datasets and files, saved models, demos, bench,
info, and one clear line with a non-zero exit for every user mistake."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP
from fastmlp.cli import commands as cli
from fastmlp.testing import assert_close

#: run subprocesses against the same fastmlp as this test process
PKG_PARENT = str(pathlib.Path(fastmlp.__file__).resolve().parent.parent)


def run(capsys, *argv):
    if argv and argv[0] in ("train", "demo") and "--help" not in argv and "--threads" not in argv:
        # one thread: on a shared, oversubscribed machine OpenMP barriers make two threads
        # much slower than one for these small networks (threads are the kernel tests' job)
        argv = (*argv, "--threads", "1")
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(capsys, argv, *fragments):
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one clear line...
    assert lines[0].startswith("fastmlp"), lines[0]
    assert "Traceback" not in err  # ...and no traceback
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


@pytest.fixture
def table(tmp_path):
    """A CSV with a header, 4 numeric features on very different scales and text labels."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4)) * [1.0, 10.0, 100.0, 0.1] + [0.0, 5.0, 50.0, 0.0]
    y = np.where(X[:, 0] + (X[:, 1] - 5.0) / 10.0 > 0.3, "yes", "no")
    path = tmp_path / "t.csv"
    with open(path, "w") as f:
        f.write("a,b,c,d,label\n")
        for row, lab in zip(X, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{lab}\n")
    return path, X, y


# ------------------------------------------------------------------ train
def test_default_train_is_the_readme_first_command(capsys):
    code, out, _ = run(capsys, "train", "--quiet")
    assert code == 0
    assert "digits: 1438 training / 359 test samples; network 64-128-128-10" in out
    acc = float(out.split("test accuracy ")[1].split("%")[0])
    assert acc > 93.0


def test_no_command_means_train(capsys):
    code, out, _ = run(capsys, "--epochs", "2", "-q")
    assert code == 0 and "test accuracy" in out and "after 2 epochs" in out


def test_train_csv_with_text_labels_by_column_name(capsys, table):
    path, _, _ = table
    code, out, _ = run(capsys, "train", "--data", str(path), "--label-column", "label",
                       "--hidden", "16", "--epochs", "30", "-q")
    assert code == 0, out
    assert "t.csv: 240 training / 60 test samples; network 4-16-2" in out
    assert float(out.split("test accuracy ")[1].split("%")[0]) > 85.0


@pytest.mark.parametrize("layout", ["xy", "table"])
def test_train_npz(capsys, tmp_path, layout):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "d.npz"
    if layout == "xy":
        np.savez(path, X=X, y=y)
        extra = []
    else:
        np.savez(path, table=np.column_stack([y, X]))
        extra = ["--label-column", "0"]
    code, out, _ = run(capsys, "train", "--data", str(path), "--hidden", "8", "-q", *extra)
    assert code == 0 and "network 3-8-2" in out


def test_train_regression_on_sine(capsys):
    code, out, _ = run(capsys, "train", "--dataset", "sine", "--hidden", "16-16", "--optimizer",
                       "adam", "--lr", "0.01", "--epochs", "5", "-q")
    assert code == 0 and "network 1-16-16-1" in out and "test mse" in out


def test_train_writes_curves(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="--plot draws with matplotlib")
    png = tmp_path / "c.png"
    code, out, _ = run(capsys, "train", "--epochs", "2", "-q", "--plot", str(png))
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG"


def test_folded_scaling_gives_the_same_network(table):
    _, X, _ = table
    y = (X[:, 0] > 0).astype(int)
    for how in ("standard", "minmax", "fixed"):
        shift, scale = cli._scaling(X, how, 7.0)
        net = MLP([4, 5, 2], seed=0, dtype=np.float64).fit((X - shift) / scale, y, epochs=2,
                                                           verbose=0, optimizer="sgd")
        before = net.forward((X - shift) / scale)
        cli._fold_scaling(net, shift, scale)
        assert_close(net.forward(X), before, what=f"folded {how} scaling")


# ------------------------------------------------------------------ user mistakes
def test_missing_file(capsys, tmp_path):
    assert_user_error(capsys, ["train", "--data", str(tmp_path / "none.csv")], "file not found",
                      "none.csv")


@pytest.mark.parametrize("col, fragment", [("species", "'species' not found"),
                                           ("9", "out of range"), ("-6", "out of range")])
def test_wrong_column(capsys, table, col, fragment):
    path, _, _ = table
    line = assert_user_error(capsys, ["train", "--data", str(path), "--label-column", col],
                             fragment)
    if col == "species":
        assert "columns are: a, b, c, d, label" in line


def test_text_in_a_feature_column(capsys, table):
    path, _, _ = table
    assert_user_error(capsys, ["train", "--data", str(path), "--label-column", "a"],
                      "is not a number", "column 'label'")


@pytest.mark.parametrize("argv, fragment", [
    (["--layers", "64-x-10"], "--layers"),
    (["--layers", "64-0-10"], "positive"),
    (["--layers", "63-10"], "must start with the 64 inputs"),
    (["--hidden", "16,a"], "--hidden"),
    (["--layers", "64-10", "--hidden", "5"], "not both"),
])
def test_bad_layer_spec(capsys, argv, fragment):
    assert_user_error(capsys, ["train", *argv], fragment)


@pytest.mark.parametrize("spec, fragment", [
    ("0", "--hidden '0': expected"), ("16-", "--hidden '16-': expected"),
    ("16-0-8", "--hidden '16-0-8': expected"), ("a", "--hidden 'a': expected"),
    ("", "--hidden is empty"), (" ", "--hidden is empty"),
    ("-".join(["4"] * 64), "at most 64 weight layers"),
])
def test_bad_hidden_spec_quotes_what_was_typed(capsys, monkeypatch, spec, fragment):
    monkeypatch.setattr(cli, "_train_data", _no_data)
    line = assert_user_error(capsys, ["train", "--hidden", spec], fragment)
    assert "[1, " not in line and "'1-" not in line  # no stand-in widths leak into the message
    if not spec.strip():
        assert "--layers" in line  # how to ask for a network without a hidden layer


def test_empty_layers_is_an_error(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_train_data", _no_data)
    assert_user_error(capsys, ["train", "--layers", ""], "--layers is empty")
    assert_user_error(capsys, ["train", "--layers", "64-10", "--hidden", ""], "not both")


def _no_data(args):
    raise AssertionError("the data was loaded before the command line was checked")


@pytest.mark.parametrize("argv, fragment", [
    (["--lr", "0"], "--lr must be a finite float > 0; got 0.0"),
    (["--lr", "-0.5"], "--lr must be"),
    (["--lr", "inf"], "--lr must be"),
    (["--lr", "nan"], "--lr must be"),
    (["--momentum", "-1"], "--momentum must be a finite float >= 0; got -1.0"),
    (["--momentum", "nan"], "--momentum must be"),
    (["--optimizer", "adam", "--momentum", "0.5"], "--momentum: momentum applies to 'sgd'"),
    (["--epochs", "0"], "--epochs must be a positive int; got 0"),
    (["--epochs", "-3"], "--epochs must be a positive int"),
    (["--batch-size", "0"], "--batch-size must be a positive int; got 0"),
    (["--threads", "0"], "--threads"),
    (["--validation-split", "1.5"], "--validation-split must be a float in the range [0, 1)"),
    (["--validation-split", "-0.1"], "--validation-split"),
    (["--test-split", "1"], "--test-split must be a float in the range [0, 1)"),
    (["--dropout", "1"], "--dropout: dropout rates must be in [0, 1)"),
    (["--dropout", "-0.5"], "--dropout"),
    (["--layers", "64-10", "--dropout", "0.5"], "--dropout: dropout acts on hidden layers"),
    (["--l2", "-1"], "--l2 must be a finite float >= 0; got -1.0"),
    (["--l2", "nan"], "--l2 must be"),
    (["--seed", "-1"], "--seed"),
    (["--layers", "64-0-10"], "--layers: layers must be positive ints"),
])
def test_numeric_options_checked_before_the_data_loads(capsys, monkeypatch, argv, fragment):
    # the library's own checks (fastmlp._validation, fastmlp.optim), run before any data is read
    # (so a slip costs no MNIST load), naming the option as typed
    monkeypatch.setattr(cli, "_train_data", _no_data)
    code, out, err = run(capsys, "train", *argv)
    assert code == 2 and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: error: "), err
    assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("argv, fragment", [
    (["sine", "--n-samples", "0"], "--n-samples must be a positive int"),
    (["perceptron", "--threads", "0"], "--threads"),
    (["perceptron", "--seed", "-1"], "--seed"),
    (["mnist", "--epochs", "0"], "--epochs must be a positive int"),
    (["mnist", "--n-train", "0"], "--n-train must be a positive int"),
    (["mnist", "--n-test", "-5"], "--n-test must be a positive int"),
])
def test_demo_numeric_options(capsys, monkeypatch, argv, fragment):
    from fastmlp.cli import demos

    def never(**kwargs):
        raise AssertionError("the demo ran before its options were checked")

    for name in demos.DEMOS:
        monkeypatch.setitem(demos.DEMOS, name, never)
    assert_user_error(capsys, ["demo", *argv, "--no-figures"], fragment)


def test_unknown_optimizer(capsys):
    assert_user_error(capsys, ["train", "--optimizer", "adamax"], "--optimizer",
                      "unknown optimizer 'adamax'", "'adam'")


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--activation", "swish"], "unknown hidden activation 'swish'"),
    (["train", "--loss", "hinge"], "unknown loss 'hinge'"),
    (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["train", "--epochs", "many"], "invalid int value"),
    (["train", "--lr", "-1", "-q"], "--lr"),
    (["train", "--test-split", "1.5"], "--test-split"),
    (["train", "--label-column", "3"], "--label-column needs --data"),
    (["train", "--dataset", "sine", "--task", "classification"], "not classes"),
    (["frobnicate"], "invalid choice"),
    (["demo", "nope"], "unknown demo 'nope'"),
    (["evaluate", "missing.npz", "--dataset", "digits"], "model file not found"),
    (["evaluate", "missing.npz", "--dataset", "spirals", "--seed", "-1"], "--seed"),
    (["predict", "missing.npz", "--data", "x.csv"], "model file not found"),
])
def test_other_mistakes(capsys, argv, fragment):
    assert_user_error(capsys, argv, fragment)


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """An empty --data-path, no $FASTMLP_DATA, an empty cache and, for --download, a mirror
    that cannot answer (a file:// URL to nowhere: no network is touched)."""
    from fastmlp.datasets import idx

    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nowhere = (tmp_path / "no-mirror").as_uri() + "/"
    for name in ("mnist", "fashion-mnist"):
        monkeypatch.setitem(idx._DATASETS[name], "mirrors", (nowhere,))
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


MNIST_COMMANDS = {"train": ["train", "--dataset", "mnist"],
                  "demo": ["demo", "mnist", "--no-peers", "--no-figures", "-q"]}


@pytest.mark.parametrize("command", list(MNIST_COMMANDS))
def test_mnist_not_found_speaks_command_line(capsys, no_mnist, command):
    # the remedy is given in the CLI's terms, the same for train and demo, never the Python API's
    line = assert_user_error(capsys, [*MNIST_COMMANDS[command], "--data-path", str(no_mnist)],
                             "MNIST train files not found", str(no_mnist), "--data-path DIR",
                             "--download", "FASTMLP_DATA")
    assert "path=" not in line and "download=True" not in line


@pytest.mark.parametrize("command", list(MNIST_COMMANDS))
def test_mnist_download_failure_is_one_line(capsys, no_mnist, command):
    line = assert_user_error(capsys, [*MNIST_COMMANDS[command], "--data-path", str(no_mnist),
                                      "--download"],
                             "could not download train-images-idx3-ubyte.gz", "no-mirror",
                             "--data-path DIR")
    assert "download=True" not in line
    assert not any(no_mnist.iterdir())  # nothing half-downloaded left behind


def test_bad_csv_shapes(capsys, tmp_path):
    ragged = tmp_path / "r.csv"
    ragged.write_text("1,2,3\n4,5\n")
    assert_user_error(capsys, ["train", "--data", str(ragged)], "row 2", "2 fields, expected 3")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    assert_user_error(capsys, ["train", "--data", str(empty)], "is empty")
    npz = tmp_path / "m.npz"
    np.savez(npz, a=np.zeros((3, 2)), b=np.zeros(3))
    assert_user_error(capsys, ["train", "--data", str(npz)], "arrays 'X' and 'y'")


# ------------------------------------------------------------------ saved models
def _have_io() -> bool:
    return (pathlib.Path(fastmlp.__file__).parent / "io.py").exists()


@pytest.fixture
def saved(tmp_path, table, capsys, monkeypatch):
    """A model trained and saved by the CLI; with pickle standing in for fastmlp.io when this
    build lacks it (so evaluate/predict are tested either way)."""
    if not _have_io():
        import pickle

        def save(net, p):
            with open(p, "wb") as f:
                pickle.dump(net, f)

        def load(p):
            if not os.path.exists(p):
                raise cli.UserError(f"model file not found: {p}")
            with open(p, "rb") as f:
                return pickle.load(f)

        monkeypatch.setattr(cli, "_save_model", save)
        monkeypatch.setattr(cli, "_load_model", load)
    path, X, y = table
    model = tmp_path / "m.npz"
    code, out, err = run(capsys, "train", "--data", str(path), "--label-column", "label",
                         "--hidden", "16", "--epochs", "30", "-q", "--output", str(model))
    assert code == 0, err
    assert model.exists()
    return model, path, X, y


def test_evaluate_saved_model_on_raw_file(capsys, saved):
    model, path, _, _ = saved
    code, out, _ = run(capsys, "evaluate", str(model), "--data", str(path), "--label-column",
                       "label")
    assert code == 0
    assert float(out.split("accuracy ")[1].split("%")[0]) > 85.0


def test_predict_saved_model(capsys, saved, tmp_path):
    model, path, X, y = saved
    code, out, _ = run(capsys, "predict", str(model), "--data", str(path), "--label-column",
                       "label")
    assert code == 0
    pred = np.array(out.split())
    assert len(pred) == len(y) and set(pred) <= {"yes", "no"}
    assert np.mean(pred == y) > 0.85
    probs = tmp_path / "p.csv"
    code, out, _ = run(capsys, "predict", str(model), "--data", str(path), "--label-column",
                       "label", "--proba", "-o", str(probs))
    assert code == 0
    rows = probs.read_text().splitlines()
    assert rows[0] == "no,yes" and len(rows) == len(y) + 1
    p = np.array([[float(v) for v in r.split(",")] for r in rows[1:]])
    assert_close(p.sum(axis=1), np.ones(len(y)), dtype=np.float32, what="probabilities")
    assert np.array_equal(np.where(p[:, 1] > p[:, 0], "yes", "no"), pred)


def test_predict_wrong_width(capsys, saved, tmp_path):
    model, _, X, _ = saved
    wide = tmp_path / "wide.csv"
    np.savetxt(wide, np.column_stack([X, X[:, :1]]), delimiter=",")
    assert_user_error(capsys, ["predict", str(model), "--data", str(wide)],
                      "5 feature columns but the model takes 4 inputs")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_saved_model_on_a_missing_file(capsys, saved, tmp_path, command):
    model, _, _, _ = saved
    assert_user_error(capsys, [command, str(model), "--data", str(tmp_path / "none.csv")],
                      "file not found", "none.csv")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_saved_model_wrong_column(capsys, saved, command):
    model, path, _, _ = saved
    assert_user_error(capsys, [command, str(model), "--data", str(path), "--label-column",
                               "species"], "'species' not found", "columns are: a, b, c, d, label")


def test_evaluate_needs_one_source(capsys, saved):
    model, _, _, _ = saved
    assert_user_error(capsys, ["evaluate", str(model)], "exactly one of --data FILE or --dataset")


def test_load_garbage_model(capsys, tmp_path):
    if not _have_io():
        pytest.skip("model save/load (fastmlp.io) has not landed in this build")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    assert_user_error(capsys, ["evaluate", str(bad), "--dataset", "digits"], "cannot load")


# ------------------------------------------------------------------ demo, bench, info, help
def test_demo_list_and_run(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "list")
    assert code == 0
    for name in ("perceptron", "sine", "spiral", "mnist", "mnist-nielsen", "mnist-800", "fashion"):
        assert f"  {name} " in out
    code, out, _ = run(capsys, "demo", "perceptron", "--out", str(tmp_path), "-q")
    assert code == 0 and "demo perceptron" in out and "-> MET" in out


def test_demo_reduced_mnist(capsys, tmp_path, shared_data):
    code, out, _ = run(capsys, "demo", "mnist", "--data-path", str(shared_data), "--epochs", "1",
                       "--n-train", "500", "--n-test", "200", "--no-peers", "--no-figures", "-q")
    assert code == 0
    assert "500 training / 200 test images" in out and "reduced-size run" in out


def test_bench_runs_the_checkout_harness(capsys, monkeypatch):
    seen = []
    fake = types.ModuleType("benchmarks.harness")
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "benchmarks.harness", fake)
    code, _, _ = run(capsys, "bench", "--quick", "--threads", "1")
    assert code == 0 and seen == [["--quick", "--threads", "1"]]


def test_bench_outside_a_checkout(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "a" / "b" / "main.py"))
    assert_user_error(capsys, ["bench"], "source checkout")


def test_info(capsys):
    code, out, _ = run(capsys, "info")
    assert code == 0
    assert f"fastmlp {fastmlp.__version__}" in out
    assert f"SIMD path: {fastmlp.simd_target()}" in out
    assert f"threads: {fastmlp.max_threads()}" in out
    assert "OpenMP: " in out and "BLAS thread pools seen:" in out
    assert "thread team (multi-threaded training and inference): " in out


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["demo", "--help"]])
def test_help_has_examples(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "examples:" in out


def _run_process(tmp_path, *argv):
    env = dict(os.environ, PYTHONPATH=PKG_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "fastmlp", *argv], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=600)


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--data", "none.csv"], "file not found: none.csv"),
    (["train", "--data", "t.csv", "--label-column", "species"], "'species' not found"),
    (["train", "--layers", "64-x-10"], "--layers"),
    (["train", "--optimizer", "adamax"], "unknown optimizer 'adamax'"),
])
def test_user_mistakes_exit_nonzero_with_one_line(tmp_path, argv, fragment):
    # the list (missing file, wrong column, bad layer spec, unknown optimizer), run the
    # way a user runs them: a process whose exit status is 2 and whose stderr is one line
    (tmp_path / "t.csv").write_text("a,b,label\n1,2,x\n3,4,y\n")
    proc = _run_process(tmp_path, *argv)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: error: "), proc.stderr
    assert fragment in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_python_dash_m_and_exit_status(tmp_path):
    ok = _run_process(tmp_path, "info")
    assert ok.returncode == 0 and "SIMD path" in ok.stdout
    bad = _run_process(tmp_path, "train", "--optimizer", "nope")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "fastmlp: error: --optimizer: unknown optimizer 'nope'; expected one of "
        + ", ".join(repr(k) for k in fastmlp._backend.OPTIMIZERS) + ", or 'lbfgs'"]


# ------------------------------------------------------------------ train: this session's options
@pytest.mark.parametrize("argv, fragment", [
    (["--init", "xavier"], "--init: init must be one of"),
    (["--lr-schedule", "warmup"], "--lr-schedule: lr_schedule must be an LRSchedule or one of"),
    (["--clip-grad-norm", "0"], "--clip-grad-norm: clip_grad_norm must be a finite float > 0"),
    (["--clip-grad-value", "-1"], "--clip-grad-value: clip_grad_value must be a finite float > 0"),
    (["--clip-grad-norm", "1", "--clip-grad-value", "1"],
     "give --clip-grad-norm or --clip-grad-value, not both"),
    (["--loss", "huber", "--huber-delta", "0"], "--huber-delta: huber_delta must be"),
    (["--huber-delta", "2"], "--huber-delta applies to --loss huber"),
    (["--loss", "quantile", "--quantile", "1.5"], "--quantile: quantile levels must be floats"),
    (["--loss", "quantile", "--quantile", "median"], "--quantile: expected a level in (0, 1)"),
    (["--quantile", "0.9"], "--quantile applies to --loss quantile"),
    (["--compute-dtype", "float16"], "--compute-dtype: compute_dtype must be None"),
    (["--compute-dtype", "bfloat16", "--dtype", "float64"],
     "--compute-dtype: compute_dtype='bfloat16' needs dtype=float32"),
    (["--optimizer", "lbfgs", "--lr", "0.1"], "--optimizer lbfgs takes no --lr"),
    (["--optimizer", "lbfgs", "--lr-schedule", "cosine"], "--optimizer lbfgs takes no "
                                                          "--lr-schedule"),
    (["--optimizer", "lbfgs", "--clip-grad-norm", "1"], "not --optimizer lbfgs"),
    (["--optimizer", "lbfgs", "--dropout", "0.2"], "--optimizer lbfgs: optimizer='lbfgs' "
                                                   "minimises a deterministic objective"),
    (["--optimizer", "lbfgs", "--norm", "batch"], "does not support normalisation layers"),
    (["--optimizer", "adamax"], "or 'lbfgs'"),
])
def test_new_train_options_checked_before_the_data_loads(capsys, monkeypatch, argv, fragment):
    # the library's own checks (initializers.check_init, schedules.get_schedule,
    # _validation.check_clip/check_quantile/check_compute_dtype, _lbfgs.check_mlp_fit), run
    # before any data is read, in one line naming the option as typed
    monkeypatch.setattr(cli, "_train_data", _no_data)
    code, out, err = run(capsys, "train", *argv)
    assert code == 2 and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: error: "), err
    assert fragment in lines[0], (fragment, lines[0])


def _spy_mlp(monkeypatch):
    """Record the keywords train passes to MLP(...) and MLP.fit(...)."""
    seen: dict = {}
    real_init, real_fit = MLP.__init__, MLP.fit

    def init(self, *a, **kw):
        seen["model"] = kw
        real_init(self, *a, **kw)

    def fit(self, *a, **kw):
        seen["fit"] = kw
        return real_fit(self, *a, **kw)

    monkeypatch.setattr(MLP, "__init__", init)
    monkeypatch.setattr(MLP, "fit", fit)
    return seen


@pytest.mark.parametrize("argv, model_kw, fit_kw", [
    (["--init", "orthogonal", "--lr-schedule", "cosine", "--clip-grad-norm", "1.5"],
     {"init": "orthogonal"}, {"lr_schedule": "cosine", "clip_grad_norm": 1.5}),
    (["--init", "lecun_normal", "--lr-schedule", "linear", "--clip-grad-value", "0.5",
      "--activation", "gelu"],
     {"init": "lecun_normal", "activation": "gelu"},
     {"lr_schedule": "linear", "clip_grad_value": 0.5}),
    (["--activation", "silu", "--compute-dtype", "bfloat16"],
     {"compute_dtype": "bfloat16", "activation": "silu"}, {}),
    (["--optimizer", "lbfgs", "--activation", "tanh", "--validation-split", "0"],
     {}, {"optimizer": "lbfgs"}),
])
def test_new_train_options_reach_the_library(capsys, monkeypatch, argv, model_kw, fit_kw):
    seen = _spy_mlp(monkeypatch)
    code, out, err = run(capsys, "train", "--dataset", "xor", "--hidden", "4", "--epochs", "2",
                         "-q", *argv)
    assert code == 0, err
    for k, v in model_kw.items():
        assert seen["model"][k] == v, (k, seen["model"])
    for k, v in fit_kw.items():
        assert seen["fit"][k] == v, (k, seen["fit"])
    for k in ("clip_grad_norm", "clip_grad_value", "lr_schedule"):  # library defaults otherwise
        if k not in fit_kw:
            assert k not in seen["fit"]


@pytest.mark.parametrize("argv, model_kw", [
    (["--loss", "huber", "--huber-delta", "0.5"], {"loss": "huber", "huber_delta": 0.5}),
    (["--loss", "quantile", "--quantile", "0.9"], {"loss": "quantile", "quantile": 0.9}),
    (["--loss", "quantile"], {"loss": "quantile"}),
])
def test_robust_regression_losses(capsys, monkeypatch, argv, model_kw):
    seen = _spy_mlp(monkeypatch)
    code, out, err = run(capsys, "train", "--dataset", "sine", "--hidden", "8", "--epochs", "2",
                         "-q", *argv)
    assert code == 0, err
    assert "test mse" in out
    for k, v in model_kw.items():
        assert seen["model"][k] == v, (k, seen["model"])
    if "quantile" not in model_kw:
        assert "quantile" not in seen["model"]


def test_lbfgs_reports_the_iterations_it_ran(capsys):
    # --epochs is L-BFGS's iteration limit; it may converge sooner, and says how many it ran
    code, out, err = run(capsys, "train", "--dataset", "xor", "--hidden", "4", "--optimizer",
                         "lbfgs", "--epochs", "500", "-q")
    assert code == 0, err
    assert "lbfgs, at most 500 iterations" in out
    ran = int(out.split(" iterations; training took")[0].rsplit(" ", 1)[1])
    assert 1 <= ran <= 500


def test_quantile_levels_per_output(capsys, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 3))
    np.savez(tmp_path / "q.npz", X=X, y=X[:, 0])
    code, out, err = run(capsys, "train", "--data", str(tmp_path / "q.npz"), "--task",
                         "regression", "--loss", "quantile", "--quantile", "0.1,0.9",
                         "--hidden", "4", "--epochs", "1", "-q")
    # the network has one output: two levels are the library's error, in one line
    assert code == 2 and "--quantile" in err and "1 outputs" in err, err


# ------------------------------------------------------------------ export
@pytest.fixture
def tiny_model(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    net = MLP([4, 6, 2], seed=0, n_threads=1).fit(X, y, epochs=2, verbose=0)
    path = tmp_path / "tiny.npz"
    from fastmlp import io as fio

    fio.save(net, str(path))
    return path, net, X


def test_export_c(capsys, tiny_model, tmp_path):
    path, net, X = tiny_model
    out_c = tmp_path / "tiny.c"
    code, out, err = run(capsys, "export", str(path), "--c", str(out_c), "--name", "tiny")
    assert code == 0, err
    text = out_c.read_text()
    assert "tiny_predict" in text and (tmp_path / "tiny.h").exists()
    assert str(out_c) in out


def test_export_c_quantized_and_saved_quantized(capsys, tiny_model, tmp_path):
    path, net, X = tiny_model
    code, out, err = run(capsys, "export", str(path), "--quantize", "int8", "--c",
                         str(tmp_path / "q.c"))
    assert code == 0, err
    assert "int8" in out and (tmp_path / "q.c").exists()
    qpath = tmp_path / "q.npz"
    net.quantize("bfloat16").save(str(qpath))
    code, out, err = run(capsys, "export", str(qpath), "--c", str(tmp_path / "b.c"))
    assert code == 0, err
    assert "bfloat16" in out and (tmp_path / "b.c").exists()


def test_export_onnx_runs_in_onnxruntime(capsys, tiny_model, tmp_path):
    from fastmlp.testing import require_peer

    require_peer("onnx", "the ONNX export")
    ort = require_peer("onnxruntime", "running the exported graph")
    path, net, X = tiny_model
    out_onnx = tmp_path / "tiny.onnx"
    code, out, err = run(capsys, "export", str(path), "--onnx", str(out_onnx))
    assert code == 0, err
    sess = ort.InferenceSession(str(out_onnx), providers=["CPUExecutionProvider"])
    got = sess.run(["probabilities"], {"X": X.astype(np.float32)})[0]
    assert_close(got, net.predict_proba(X), "float32")


def test_export_onnx_without_onnx(capsys, tiny_model, tmp_path, monkeypatch):
    from fastmlp import export

    def missing():
        raise ImportError("no onnx")

    monkeypatch.setattr(export, "_onnx", missing)
    path, _, _ = tiny_model
    assert_user_error(capsys, ["export", str(path), "--onnx", str(tmp_path / "m.onnx")],
                      'pip install "fastmlp[onnx]"')
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("extra, fragment", [
    ([], "give exactly one of --onnx OUT.onnx or --c OUT.c"),
    (["--onnx", "a.onnx", "--c", "a.c"], "give exactly one of"),
    (["--c", "a.c", "--name", "1abc"], "--name must be a C identifier"),
    (["--c", "a.c", "--name", "int"], "--name must be a C identifier"),
    (["--onnx", "a.onnx", "--name", "m"], "--name applies to --c"),
    (["--c", "a.txt"], "must end in .c"),
    (["--c", "a.c", "--quantize", "int4"], "--quantize must be one of int8, bfloat16"),
    (["--c", "nodir/a.c"], "does not exist"),
])
def test_export_mistakes(capsys, tiny_model, monkeypatch, extra, fragment):
    path, _, _ = tiny_model
    monkeypatch.chdir(path.parent)
    assert_user_error(capsys, ["export", str(path), *extra], fragment)


def test_export_unreadable_model(capsys, tmp_path):
    assert_user_error(capsys, ["export", str(tmp_path / "none.npz"), "--c",
                               str(tmp_path / "a.c")], "model file not found")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    assert_user_error(capsys, ["export", str(bad), "--c", str(tmp_path / "a.c")],
                      "cannot load a model from")
    assert not (tmp_path / "a.c").exists()


def test_export_quantize_twice(capsys, tiny_model, tmp_path):
    path, net, _ = tiny_model
    qpath = tmp_path / "q.npz"
    net.quantize("int8").save(str(qpath))
    assert_user_error(capsys, ["export", str(qpath), "--quantize", "int8", "--c",
                               str(tmp_path / "a.c")], "already quantised")


def test_help_lists_the_new_command_and_options(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "export" in out
    code, out, _ = run(capsys, "train", "--help")
    for flag in ("--init", "--lr-schedule", "--clip-grad-norm", "--clip-grad-value",
                 "--huber-delta", "--quantile", "--compute-dtype", "lbfgs", "gelu", "silu"):
        assert flag in out, flag
    code, out, _ = run(capsys, "export", "--help")
    assert code == 0 and "examples:" in out
    for flag in ("--onnx", "--c", "--name", "--quantize"):
        assert flag in out, flag


def test_evaluate_and_predict_a_quantized_model_file(capsys, saved, tmp_path):
    # a QuantizedMLP saved by q.save: fastmlp.load reads it; it has no loss, so evaluate
    # reports its accuracy alone (it used to end in an AttributeError traceback)
    model, path, X, y = saved
    net = cli._load_model(str(model))
    qpath = tmp_path / "q.npz"
    q = net.quantize("int8")
    q.save(str(qpath))
    code, out, err = run(capsys, "evaluate", str(qpath), "--data", str(path), "--label-column",
                         "label")
    assert code == 0, err
    assert "(int8)" in out and f"accuracy {q.score(X, y):.2%}" in out
    code, out, err = run(capsys, "predict", str(qpath), "--data", str(path), "--label-column",
                         "label")
    assert code == 0, err
    assert out.split() == [str(v) for v in q.predict(X)]


def test_evaluate_a_quantized_regressor(capsys, tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 3))
    y = X @ [1.0, -2.0, 0.5]
    net = MLP([3, 8, 1], loss="mse", seed=0, n_threads=1).fit(X, y, epochs=3, verbose=0)
    qpath = tmp_path / "r.npz"
    q = net.quantize("bfloat16")
    q.save(str(qpath))
    np.savez(tmp_path / "d.npz", X=X, y=y)
    code, out, err = run(capsys, "evaluate", str(qpath), "--data", str(tmp_path / "d.npz"))
    assert code == 0, err
    mse = np.mean((q.predict(X).reshape(-1) - y) ** 2)
    assert "(bfloat16)" in out and f"mse {mse:.6g}" in out
