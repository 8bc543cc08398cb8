"""Lazy exports for package ``__init__`` modules.

A package lists its public names as ordinary imports inside an
``if TYPE_CHECKING:`` block (so type checkers and editors see them) and calls
:func:`attach`, which reads that block and returns a module ``__getattr__`` that
imports a name's module the first time the name is used, plus a ``__dir__`` that
lists every public name. ``import mutualaid_outcomes`` therefore costs almost
nothing, and ``mutualaid_outcomes.fit_cox`` imports only the survival code.

This is the pattern of SPEC 1 (scientific-python lazy loading), reading the imports
from the package's own source instead of a stub file.

Examples
--------
In a package ``__init__.py``::

    from typing import TYPE_CHECKING

    from .._lazy import attach

    if TYPE_CHECKING:
        from .cox import CoxResult, fit_cox

    __all__ = ["fit_cox", "CoxResult"]
    __getattr__, __dir__ = attach(__name__, __file__, __all__)
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["attach", "lazy_imports"]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def lazy_imports(source: str, package: str) -> dict[str, tuple[str, str | None]]:
    r"""Map each name imported under ``if TYPE_CHECKING:`` to (module, attribute).

    The attribute is None when the name is a submodule (``from . import errors``).

    Examples
    --------
    >>> src = "if TYPE_CHECKING:\n    from .io import read_data as rd\n    from . import errors\n"
    >>> lazy_imports(src, "pkg")
    {'rd': ('pkg.io', 'read_data'), 'errors': ('pkg.errors', None)}
    """
    out: dict[str, tuple[str, str | None]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for imp in node.body:
            if not isinstance(imp, ast.ImportFrom):
                continue
            base = importlib.util.resolve_name("." * imp.level + (imp.module or ""), package)
            for alias in imp.names:
                name = alias.asname or alias.name
                if imp.module is None:  # from . import submodule
                    out[name] = (f"{base}.{alias.name}" if imp.level else alias.name, None)
                else:
                    out[name] = (base, alias.name)
    return out


def attach(
    package: str,
    init_file: str,
    public: Iterable[str],
    computed: Mapping[str, Callable[[], Any]] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for a package whose exports are lazy.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    init_file : str
        The package's ``__file__``; its ``if TYPE_CHECKING:`` imports are the exports.
    public : iterable of str
        The package's ``__all__``; every name in it must be imported under
        ``TYPE_CHECKING``, be computed, or be a submodule of the package.
    computed : mapping, optional
        Names whose value a function computes on first use (``__version__``, whose
        look-up in the installed metadata is slower than the rest of the import).

    Returns
    -------
    tuple
        Module-level ``__getattr__`` and ``__dir__`` functions.

    Raises
    ------
    ImportError
        If ``public`` names something the package cannot provide (a packaging bug,
        found when the package is first imported).
    """
    table = lazy_imports(Path(init_file).read_text(encoding="utf-8"), package)
    public = list(public)
    computed = dict(computed or {})
    module = sys.modules[package]
    missing = [
        n
        for n in public
        if n not in table
        and n not in computed
        and n not in vars(module)
        and importlib.util.find_spec(f"{package}.{n}") is None
    ]
    if missing:
        raise ImportError(f"{package}.__all__ names {missing}, which it does not import.")

    def __getattr__(name: str) -> Any:
        if name in computed:
            value = computed[name]()
        elif name in table:
            mod_name, attr = table[name]
            mod = importlib.import_module(mod_name)
            value = mod if attr is None else getattr(mod, attr)
        elif importlib.util.find_spec(f"{package}.{name}") is not None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(module)) | set(public) | set(table) | set(computed))

    return __getattr__, __dir__
