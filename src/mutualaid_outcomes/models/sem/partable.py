"""Parameter table with lavaan's ``sem()`` / ``cfa()`` defaults.

From the parsed syntax, the observed columns and the number of groups this module
builds one row per model parameter (as lavaan's ``parTable()``), adding what lavaan's
``sem()`` adds automatically:

* the first loading of every factor fixed to 1 (``auto.fix.first``; with ``std_lv=True``
  the factor variances are fixed to 1 instead and all loadings are free);
* residual variances of every observed variable that is not a fixed exogenous covariate
  and variances of every latent variable (``auto.var``); the residual variance of a
  single indicator of a single-indicator factor fixed to 0 (``auto.fix.single``);
* covariances among exogenous latent variables (``auto.cov.lv.x``) and among the
  residuals of the final dependent variables -- latent or observed variables that are
  regressed on others but predict nothing and indicate nothing (``auto.cov.y``);
* ``fixed.x``: variances, covariances and means of observed exogenous covariates (used
  only as predictors in ``~`` and not named in a ``~~`` or ``~ 1`` statement) fixed at
  their sample values;
* with a mean structure: free intercepts of the observed variables, latent means fixed
  to 0 (freed in groups 2, 3, ... when ``group_equal`` contains ``"intercepts"`` but not
  ``"means"``);
* equality constraints: rows sharing a label (also across groups: a single label in a
  multi-group model applies to every group), ``group_equal`` classes, and ``==``
  statements between labels.

Examples
--------
>>> from mutualaid_outcomes.models.sem.syntax import parse_model
>>> pt = build_partable(parse_model("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])
>>> [(r.lhs, r.op, r.rhs, r.free > 0) for r in pt.rows][:4]
[('f', '=~', 'x1', False), ('f', '=~', 'x2', True), ('f', '=~', 'x3', True), ('x1', '~~', 'x1', True)]
>>> pt.n_free
6
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..._validation import close_matches
from ...errors import ColumnNotFoundError, OptionError
from ._errors import ModelSyntaxError
from .syntax import ParsedModel, Statement, Term

__all__ = ["ParRow", "ParTable", "build_partable", "GROUP_EQUAL"]

#: Classes accepted by ``group_equal`` (lavaan's ``group.equal``).
GROUP_EQUAL = (
    "loadings",
    "intercepts",
    "means",
    "regressions",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
)


@dataclass(frozen=True)
class ParRow:
    """One parameter (or defined parameter) of the table.

    ``free`` is the 1-based index into the free-parameter vector (0 for fixed); rows
    sharing a label share the index. ``value`` is the fixed value (NaN when free or when
    the value is a sample statistic of a fixed exogenous covariate, ``exo=True``).
    """

    lhs: str
    op: str
    rhs: str
    group: int
    user: bool
    free: int
    value: float
    label: str
    exo: bool = False
    start: float = float("nan")
    expression: str = ""


@dataclass(frozen=True)
class ParTable:
    """Rows plus the variable roles the defaults were derived from."""

    rows: tuple[ParRow, ...]
    ov_names: tuple[str, ...]
    lv_names: tuple[str, ...]
    ov_x: tuple[str, ...]
    n_groups: int
    n_free: int
    meanstructure: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def defined(self) -> tuple[ParRow, ...]:
        """The ``:=`` rows."""
        return tuple(r for r in self.rows if r.op == ":=")

    @property
    def parameters(self) -> tuple[ParRow, ...]:
        """Model rows (without ``:=``)."""
        return tuple(r for r in self.rows if r.op != ":=")


@dataclass
class _Row:
    lhs: str
    op: str
    rhs: str
    user: bool
    term: Term | None = None
    free: bool = True
    value: float = float("nan")
    exo: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        if self.op == "~~":
            a, b = sorted((self.lhs, self.rhs))
            return (a, "~~", b)
        return (self.lhs, self.op, self.rhs)


def _unique(seq: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(seq))


@dataclass
class _Roles:
    lv: list[str]
    ov: list[str]
    ov_x: list[str]
    ov_ind: list[str]
    lv_x: list[str]
    y_cov: list[str]
    notes: list[str]
    ov_x_all: list[str] = field(default_factory=list)


def _roles(statements: Sequence[Statement], fixed_x: bool) -> _Roles:
    meas = [(lhs, t.name) for s in statements if s.op == "=~" for lhs in s.lhs for t in s.rhs]
    regs = [(lhs, t.name) for s in statements if s.op == "~" for lhs in s.lhs for t in s.rhs]
    lv = _unique([a for a, _ in meas])
    v_ind = _unique([b for _, b in meas])
    ov_ind = [v for v in v_ind if v not in lv]
    eqs_y = _unique([a for a, b in regs if b != "1"])
    eqs_x = _unique([b for _, b in regs if b != "1"])
    ov_y = [v for v in eqs_y if v not in lv and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y]
    extra = []
    for s in statements:
        if s.op == "~~":
            extra += [v for lhs in s.lhs for v in (lhs, *(t.name for t in s.rhs))]
        elif s.op == "~":
            extra += [lhs for lhs in s.lhs if any(t.name == "1" for t in s.rhs)]
    extra = [v for v in _unique(extra) if v not in lv]
    ov = _unique(ov_ind + ov_y + ov_x + [v for v in extra if v not in ov_ind + ov_y + ov_x])
    notes: list[str] = []
    touched = set(v for v in extra)
    random_x = [v for v in ov_x if v in touched]
    if random_x and fixed_x:
        notes.append(
            "Exogenous covariates named in a '~~' or '~ 1' statement are treated as random "
            f"(their variances, covariances and means are estimated): {', '.join(random_x)}."
        )
    ov_x_exo = [v for v in ov_x if v not in touched]
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    lv_y = [v for v in lv if v in eqs_y and v not in v_ind and v not in eqs_x]
    ov_y_pure = [v for v in ov if v in eqs_y and v not in v_ind and v not in eqs_x and v not in lv]
    fixed = ov_x_exo if fixed_x else []
    return _Roles(lv, ov, fixed, ov_ind, lv_x, lv_y + ov_y_pure, notes, ov_x_exo)


def _user_rows(statements: Sequence[Statement]) -> list[_Row]:
    rows: list[_Row] = []
    for s in statements:
        if s.op in (":=", "=="):
            continue
        for lhs in s.lhs:
            for t in s.rhs:
                if s.op == "~" and t.name == "1":
                    rows.append(_Row(lhs, "~1", "", True, t))
                else:
                    rows.append(_Row(lhs, s.op, t.name, True, t))
    return rows


def _default_rows(roles: _Roles, meanstructure: bool) -> list[_Row]:
    nox = [v for v in roles.ov if v not in roles.ov_x_all]
    rows = [_Row(v, "~~", v, False) for v in nox + roles.lv]
    rows += [_Row(a, "~~", b, False) for a, b in itertools.combinations(roles.lv_x, 2)]
    rows += [_Row(a, "~~", b, False) for a, b in itertools.combinations(roles.y_cov, 2)]
    x = roles.ov_x_all
    rows += [_Row(x[i], "~~", x[j], False) for i in range(len(x)) for j in range(i, len(x))]
    if meanstructure:
        rows += [_Row(v, "~1", "", False) for v in roles.ov + roles.lv]
    return rows


def _merge(user: list[_Row], default: list[_Row], notes: list[str]) -> list[_Row]:
    seen: dict[tuple[str, str, str], _Row] = {}
    kept = []
    for r in user:
        if r.key in seen:
            notes.append(
                f"Duplicated statement '{r.lhs} {r.op} {r.rhs}' ignored (the first one is used)."
            )
            continue
        seen[r.key] = r
        kept.append(r)
    kept += [r for r in default if r.key not in seen]
    return kept


def _apply_defaults(rows: list[_Row], roles: _Roles, std_lv: bool) -> None:
    first_seen: set[str] = set()
    counts: dict[str, int] = {}
    for r in rows:
        if r.op == "=~":
            counts[r.lhs] = counts.get(r.lhs, 0) + 1
    ind_count: dict[str, int] = {}
    for r in rows:
        if r.op == "=~":
            ind_count[r.rhs] = ind_count.get(r.rhs, 0) + 1
    single = {r.rhs for r in rows if r.op == "=~" and counts[r.lhs] == 1 and ind_count[r.rhs] == 1}
    for r in rows:
        if r.op == "=~" and r.lhs not in first_seen:
            first_seen.add(r.lhs)
            if not std_lv:
                r.free, r.value = False, 1.0
        elif r.op == "~~" and r.lhs == r.rhs and std_lv and r.lhs in roles.lv:
            r.free, r.value = False, 1.0
        elif r.op == "~~" and r.lhs == r.rhs and not r.user and r.lhs in single:
            if r.lhs not in roles.lv:
                r.free, r.value = False, 0.0
        elif r.op == "~1" and not r.user and r.lhs in roles.lv:
            r.free, r.value = False, 0.0
        if not r.user and r.lhs in roles.ov_x and (r.op == "~1" or r.rhs in roles.ov_x):
            r.free, r.exo = False, True


def _per_group(values: tuple | None, g: int, n_groups: int, term: Term, what: str):
    if values is None:
        return None
    if len(values) == 1:
        return values[0]
    if len(values) != n_groups:
        raise ModelSyntaxError(
            f"Model syntax error at line {term.line}, column {term.column}: the {what} "
            f"modifier of '{term.name}' has {len(values)} values but the model has "
            f"{n_groups} group(s); give one value per group."
        )
    return values[g]


def _group_rows(
    rows: list[_Row], g: int, n_groups: int, roles: _Roles, group_equal: Sequence[str]
) -> list[dict]:
    out = []
    for r in rows:
        d = {
            "lhs": r.lhs,
            "op": r.op,
            "rhs": r.rhs,
            "group": g,
            "user": r.user,
            "free": r.free,
            "value": r.value if not r.free else float("nan"),
            "label": "",
            "exo": r.exo,
            "start": float("nan"),
        }
        if (
            g > 0
            and not r.user
            and r.op == "~1"
            and r.lhs in roles.lv
            and "intercepts" in group_equal
            and "means" not in group_equal
        ):
            d["free"], d["value"] = True, float("nan")
        t = r.term
        if t is not None:
            fixed = _per_group(t.fixed, g, n_groups, t, "fixed-value")
            forced = _per_group(t.free_forced, g, n_groups, t, "fixed-value")
            label = _per_group(t.labels, g, n_groups, t, "label")
            start = _per_group(t.start, g, n_groups, t, "start")
            if fixed is not None:
                d["free"], d["value"] = False, float(fixed)
            elif forced:
                d["free"], d["value"] = True, float("nan")
            if label is not None:
                d["label"] = label
            if start is not None:
                d["start"] = float(start)
        out.append(d)
    return out


def _equal_class(d: dict, roles: _Roles) -> str | None:
    op, lhs, rhs = d["op"], d["lhs"], d["rhs"]
    if d["exo"]:
        return None
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in roles.lv else "intercepts"
    if op == "~~":
        lat = lhs in roles.lv and rhs in roles.lv
        obs = lhs in roles.ov and rhs in roles.ov
        if lhs == rhs:
            return "lv.variances" if lat else "residuals" if obs else None
        return "lv.covariances" if lat else "residual.covariances" if obs else None
    return None


def _check_names(roles: _Roles, columns: Sequence[str], statements: Sequence[Statement]) -> None:
    cols = [str(c) for c in columns]
    colset = set(cols)
    clash = [v for v in roles.lv if v in colset]
    if clash:
        raise ModelSyntaxError(
            f"{clash} are defined as latent variables ('=~') and are also columns of `data`; "
            "rename the latent variables."
        )
    missing = [v for v in roles.ov if v not in colset]
    if missing:
        hints = []
        for m in missing[:10]:
            pos = next(
                ((t.line, t.column) for s in statements for t in s.rhs if t.name == m),
                next(((s.line, s.column) for s in statements if m in s.lhs), (0, 0)),
            )
            sugg = close_matches(m, cols)
            hint = f"'{m}' (line {pos[0]})"
            if sugg:
                hint += " -- did you mean " + " or ".join(repr(s) for s in sugg) + "?"
            hints.append(hint)
        raise ColumnNotFoundError(
            "`model` names variables that are neither latent variables (left of '=~') nor "
            "columns of `data`: " + "; ".join(hints)
        )


def build_partable(
    parsed: ParsedModel,
    columns: Sequence[str],
    *,
    n_groups: int = 1,
    meanstructure: bool = False,
    fixed_x: bool = True,
    std_lv: bool = False,
    group_equal: Sequence[str] = (),
) -> ParTable:
    """Build the parameter table with lavaan's ``sem()`` defaults.

    Parameters
    ----------
    parsed : ParsedModel
        From :func:`~mutualaid_outcomes.models.sem.syntax.parse_model`.
    columns : sequence of str
        Columns available in the data (observed variables are checked against them).
    n_groups : int
        Number of groups.
    meanstructure : bool
        Add intercepts and means (also switched on by any ``~ 1`` in the syntax).
    fixed_x : bool
        lavaan's ``fixed.x``.
    std_lv : bool
        Identify factors by fixing their variances to 1 (lavaan ``std.lv``).
    group_equal : sequence of str
        Classes of parameters constrained equal across groups (:data:`GROUP_EQUAL`).

    Returns
    -------
    ParTable

    Raises
    ------
    ModelSyntaxError
        On inconsistent modifiers or constraints.
    ColumnNotFoundError
        If an observed variable is not a column (with close matches).
    """
    statements = parsed.statements
    bad = [g for g in group_equal if g not in GROUP_EQUAL]
    if bad:
        raise OptionError(
            f"`group_equal` must contain only {', '.join(repr(g) for g in GROUP_EQUAL)}; got {bad}."
        )
    if any(s.op == "~" and any(t.name == "1" for t in s.rhs) for s in statements):
        meanstructure = True
    roles = _roles(statements, fixed_x)
    _check_names(roles, columns, statements)
    notes = list(roles.notes)
    rows = _merge(_user_rows(statements), _default_rows(roles, meanstructure), notes)
    _apply_defaults(rows, roles, std_lv)
    flat: list[dict] = []
    for g in range(n_groups):
        flat += _group_rows(rows, g, n_groups, roles, group_equal)
    _assign_free(flat, roles, statements, group_equal, n_groups)
    out = [ParRow(**d) for d in flat]
    for s in statements:
        if s.op == ":=":
            expr = "".join(s.expression.split())
            out.append(ParRow(s.lhs[0], ":=", expr, 0, True, 0, float("nan"), s.lhs[0]))
    n_free = max((r.free for r in out), default=0)
    return ParTable(
        tuple(out),
        tuple(roles.ov),
        tuple(roles.lv),
        tuple(roles.ov_x),
        n_groups,
        n_free,
        meanstructure,
        tuple(notes),
    )


class _UnionFind:
    """Equivalence classes of parameter rows (shared labels, ``==``, ``group_equal``)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)

    def union_all(self, idx: Sequence[int]) -> None:
        for j in idx[1:]:
            self.union(idx[0], j)


def _assign_free(
    flat: list[dict],
    roles: _Roles,
    statements: Sequence[Statement],
    group_equal: Sequence[str],
    n_groups: int,
) -> None:
    """Number the free parameters, one index per class of equal parameters."""
    uf = _UnionFind(len(flat))
    by_label: dict[str, list[int]] = {}
    for i, d in enumerate(flat):
        if d["label"]:
            by_label.setdefault(d["label"], []).append(i)
    for idx in by_label.values():
        uf.union_all(idx)
    if n_groups > 1 and group_equal:
        _union_group_equal(flat, roles, group_equal, uf)
    _apply_equalities(flat, statements, by_label, uf)
    _fix_constrained_classes(flat, uf)
    _number_free(flat, uf)


def _union_group_equal(
    flat: list[dict], roles: _Roles, group_equal: Sequence[str], uf: _UnionFind
) -> None:
    """Unlabelled free parameters of the ``group_equal`` classes, equal across groups."""
    keyed: dict[tuple, list[int]] = {}
    for i, d in enumerate(flat):
        cls = _equal_class(d, roles)
        if cls in group_equal and d["free"] and not d["label"]:
            keyed.setdefault((d["lhs"], d["op"], d["rhs"]), []).append(i)
    for idx in keyed.values():
        uf.union_all(idx)


def _apply_equalities(
    flat: list[dict],
    statements: Sequence[Statement],
    by_label: dict[str, list[int]],
    uf: _UnionFind,
) -> None:
    """``label == label`` joins two classes; ``label == number`` fixes a label."""
    for s in statements:
        if s.op != "==":
            continue
        a, b = s.lhs[0], s.expression.strip()
        where = f"Model syntax error at line {s.line}, column {s.column}"
        if a not in by_label:
            raise ModelSyntaxError(f"{where}: '{a}' in '{a} == {b}' is not a label of the model.")
        try:
            val = float(b)
        except ValueError:
            val = None
        if val is not None:
            for i in by_label[a]:
                flat[i]["free"], flat[i]["value"] = False, val
        elif b in by_label:
            uf.union(by_label[a][0], by_label[b][0])
        else:
            raise ModelSyntaxError(
                f"{where}: only constraints between two labels or a label and a number are "
                f"supported; got '{a} == {b}'."
            )


def _fix_constrained_classes(flat: list[dict], uf: _UnionFind) -> None:
    """A class with one fixed member is fixed; different fixed values are an error."""
    classes: dict[int, list[int]] = {}
    for i in range(len(flat)):
        classes.setdefault(uf.find(i), []).append(i)
    for members in classes.values():
        values = {flat[j]["value"] for j in members if not flat[j]["free"]}
        if not values or len(values) == len(members) == 1:
            continue
        if len(values) > 1:
            rows = ", ".join(f"{flat[j]['lhs']} {flat[j]['op']} {flat[j]['rhs']}" for j in members)
            raise ModelSyntaxError(
                f"Parameters constrained equal ({rows}) are fixed to different values "
                f"{sorted(values)}; remove the label or the fixed values."
            )
        value = values.pop()
        for j in members:
            flat[j]["free"], flat[j]["value"] = False, value


def _number_free(flat: list[dict], uf: _UnionFind) -> None:
    """Free index 1, 2, ... per class in order of first appearance; 0 when fixed."""
    counter = 0
    index_of: dict[int, int] = {}
    for i, d in enumerate(flat):
        if not d["free"]:
            d["free"] = 0
            continue
        root = uf.find(i)
        if root not in index_of:
            counter += 1
            index_of[root] = counter
        d["free"] = index_of[root]
