r"""Defined parameters (``:=``) and their delta-method standard errors.

A definition is an arithmetic expression of parameter labels, numbers, earlier
definitions and the functions ``sqrt``, ``exp``, ``log``, ``abs``; ``^`` is a power as in
R. The Jacobian :math:`J = \partial d/\partial\theta` is computed by complex-step
differentiation (exact to rounding error, as lavaan's ``lav_func_jacobian_complex``),
falling back to Richardson central differences for non-analytic expressions (``abs``);
the covariance of the defined parameters is :math:`J\hat V J^\top`.

Examples
--------
>>> import numpy as np
>>> d = DefinedParameters([("ind", "a*b"), ("total", "cp + ind")], {"a": 0, "b": 1, "cp": 2})
>>> d.values(np.array([0.5, 0.4, 0.1])).round(3).tolist()
[0.2, 0.3]
>>> d.jacobian(np.array([0.5, 0.4, 0.1])).round(3).tolist()
[[0.4, 0.5, 0.0], [0.4, 0.5, 1.0]]
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import ModelSyntaxError

__all__ = ["DefinedParameters"]

_FUNCS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs}
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _compile(name: str, text: str, known: set[str]) -> ast.expr:
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval").body
    except SyntaxError as exc:
        raise ModelSyntaxError(
            f"The definition '{name} := {text}' is not a valid expression ({exc.msg})."
        ) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in known and node.id not in _FUNCS:
            raise ModelSyntaxError(
                f"The definition '{name} := {text}' uses '{node.id}', which is neither a "
                "parameter label nor an earlier definition."
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _FUNCS and len(node.args) == 1
        ):
            raise ModelSyntaxError(
                f"The definition '{name} := {text}' calls a function other than "
                f"{', '.join(_FUNCS)} (one argument each)."
            )
        if not isinstance(
            node,
            (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Call, ast.Load)
            + tuple(_BINOPS)
            + (ast.USub, ast.UAdd),
        ):
            raise ModelSyntaxError(
                f"The definition '{name} := {text}' contains an unsupported element "
                f"({type(node).__name__})."
            )
    return tree


def _eval(node: ast.expr, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # numbers only (checked at compile)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _FUNCS[node.func.id](_eval(node.args[0], env))
    raise TypeError(type(node).__name__)  # pragma: no cover - rejected at compile time


class DefinedParameters:
    """Definitions compiled against parameter labels.

    Parameters
    ----------
    definitions : sequence of (name, expression)
        In the order written (a definition may use earlier ones).
    labels : mapping
        Label -> 0-based index into the free-parameter vector.
    constants : mapping, optional
        Labels of fixed parameters -> their values.
    """

    def __init__(
        self,
        definitions: Sequence[tuple[str, str]],
        labels: Mapping[str, int],
        constants: Mapping[str, float] | None = None,
    ):
        self.names = [n for n, _ in definitions]
        self.labels = dict(labels)
        self.constants = dict(constants or {})
        known = set(self.labels) | set(self.constants)
        self._trees = []
        for name, text in definitions:
            if name in known:
                raise ModelSyntaxError(
                    f"'{name} := ...' redefines the parameter label '{name}'; use another name."
                )
            self._trees.append(_compile(name, text, known))
            known.add(name)
        self.analytic = not any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "abs"
            for t in self._trees
            for n in ast.walk(t)
        )

    def __len__(self) -> int:
        return len(self.names)

    def _values(self, theta: np.ndarray) -> np.ndarray:
        env: dict[str, Any] = {lab: theta[..., k] for lab, k in self.labels.items()}
        env.update(self.constants)
        out = []
        for name, tree in zip(self.names, self._trees):
            with np.errstate(all="ignore"):
                v = _eval(tree, env) + np.zeros(theta.shape[:-1], dtype=theta.dtype)
            env[name] = v
            out.append(v)
        return np.stack(out, axis=-1) if out else np.zeros(theta.shape[:-1] + (0,))

    def values(self, theta: np.ndarray) -> np.ndarray:
        """Defined parameters at ``theta`` (``(q,)``, or ``(n, q)`` for ``n`` draws)."""
        return self._values(np.asarray(theta, dtype=float)).real.astype(float)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``(n_defined, q)`` derivatives (complex step, or central differences)."""
        theta = np.asarray(theta, dtype=float)
        q = theta.size
        J = np.zeros((len(self), q))
        if self.analytic:
            h = 1e-30
            for k in range(q):
                z = theta.astype(complex)
                z[k] += 1j * h
                J[:, k] = self._values(z).imag / h
            return J
        for k in range(q):
            h = 1e-5 * max(1.0, abs(theta[k]))
            vals = []
            for s in (-2, -1, 1, 2):
                x = theta.copy()
                x[k] += s * h
                vals.append(self.values(x))
            J[:, k] = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h)
        return J
