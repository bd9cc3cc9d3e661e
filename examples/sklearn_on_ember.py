"""scikit-learn on Ember tensors, through the Python array API standard.

scikit-learn's estimators that support the standard run on any array library that implements it:
with ``sklearn.set_config(array_api_dispatch=True)`` (and ``SCIPY_ARRAY_API=1`` in the environment
before SciPy is imported) they take Ember tensors, compute with ``ember.array_api`` on the tensors'
device and return Ember tensors on that device. This script fits PCA, LinearDiscriminantAnalysis
and Ridge on Ember tensors and checks every result against the same estimators on numpy arrays::

    SCIPY_ARRAY_API=1 python examples/sklearn_on_ember.py --device opencl

(``pip install scikit-learn``; the script sets ``SCIPY_ARRAY_API`` itself when it is the first to
import SciPy.) It prints one line per estimator and exits non-zero when a result differs.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # read once, when SciPy is first imported

import ember  # noqa: E402
import ember.array_api as xp  # noqa: E402
import numpy as np  # noqa: E402


def _compare(
    name: str, got: object, want: np.ndarray, device: ember.Device, sign_free: bool = False
) -> float:
    """The largest difference between ``got`` (an Ember tensor on ``device``) and ``want``; an
    AssertionError naming ``name`` when it is not an Ember tensor there or differs beyond 1e-8."""
    if not isinstance(got, ember.Tensor) or got.device != device:
        raise AssertionError(f"{name}: expected an ember.Tensor on {device}, got {type(got).__name__}")
    g = got.numpy()
    if sign_free:  # components are defined up to their sign
        g, want = np.abs(g), np.abs(want)
    np.testing.assert_allclose(g, want, rtol=1e-8, atol=1e-10, err_msg=name)
    return float(np.max(np.abs(g - want))) if g.size else 0.0


def run(device: str, seed: int = 0) -> list[tuple[str, float]]:
    """Fit the three estimators on Ember tensors on ``device`` and on numpy arrays; return each
    compared result's name and its largest difference (raises AssertionError on a mismatch)."""
    import sklearn
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import Ridge

    sklearn.set_config(array_api_dispatch=True)
    dev = ember.device(device)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    Xe, ye = xp.asarray(X, device=dev), xp.asarray(y, device=dev)
    results = []
    for est in (PCA(n_components=2, svd_solver="full"), LinearDiscriminantAnalysis()):
        got = est.fit(Xe, ye).transform(Xe)
        want = type(est)(**est.get_params()).fit(X, y).transform(X)
        name = f"{type(est).__name__}.transform"
        results.append((name, _compare(name, got, want, dev, sign_free=True)))
    # Ridge: scikit-learn's array-API path has the 'svd' solver only (solver='auto' picks it)
    coef = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 1.0, -1.0, 2.0]])
    Y = X @ coef.T + 0.1 * rng.standard_normal((50, 2))
    for targets in (Y[:, 0], Y):
        Ye = xp.asarray(targets, device=dev)
        est = Ridge(alpha=0.5, solver="svd").fit(Xe, Ye)
        ref = Ridge(alpha=0.5, solver="svd").fit(X, targets)
        tag = f"Ridge ({targets.ndim}-d target)"
        for attr, got, want in (
            ("coef_", est.coef_, ref.coef_),
            ("intercept_", est.intercept_, ref.intercept_),
            ("predict", est.predict(Xe), ref.predict(X)),
        ):
            results.append((f"{tag}.{attr}", _compare(f"{tag}.{attr}", got, want, dev)))
        score, want_score = float(est.score(Xe, Ye)), ref.score(X, targets)
        if abs(score - want_score) > 1e-10:
            raise AssertionError(f"{tag}.score: {score} against numpy's {want_score}")
        results.append((f"{tag}.score", abs(score - want_score)))
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--device`` (default cpu)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", help="an Ember device: cpu, opencl, cuda ...")
    args = p.parse_args(argv)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("error: scikit-learn is not installed (pip install scikit-learn)", file=sys.stderr)
        return 2
    try:
        results = run(args.device)
    except AssertionError as exc:
        print(f"mismatch on {args.device}: {exc}", file=sys.stderr)
        return 1
    for name, diff in results:
        print(f"{name:40s} equal to numpy's (largest difference {diff:.1e})")
    print(f"ok: PCA, LinearDiscriminantAnalysis and Ridge on Ember tensors on {args.device}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
