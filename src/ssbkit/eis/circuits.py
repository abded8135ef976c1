"""Equivalent circuits from strings, evaluated without ``eval``.

Two notations are read:

- **impedance.py's**: ``R0-p(R1,CPE1)-Wo1``. ``-`` joins in series, ``p(a,b,…)`` in
  parallel; each element has a name made of its symbol and an index (``R0``, ``CPE1``).
- **Boukamp's CDC**: ``R(RQ)(RQ)Q``. Letters are elements (R, C, L, Q = CPE, W, O = Wo,
  T = Ws, G = Gerischer); juxtaposed elements are in series at the top level and inside
  ``[…]``, in parallel inside ``(…)``. Elements are named by symbol with a running index
  per symbol from 0, so ``R(RQ)`` is ``R0-p(R1,CPE0)``.

A parsed ``Circuit`` knows its parameter names (see ``ssbkit.eis.elements``) and
evaluates Z(f) for a parameter vector or mapping.

>>> c = parse_circuit("R0-p(R1,C1)")
>>> c.parameter_names
('R0', 'R1', 'C1')
>>> z = c.impedance([1 / (2 * 3.141592653589793 * 1e-4)], {"R0": 10, "R1": 100, "C1": 1e-6})
>>> complex(z[0]).real, complex(z[0]).imag   # at ω = 1/(R1 C1): the arc's apex
(60.0, -50.0)
>>> parse_circuit("R(RQ)(RQ)Q").to_string()
'R0-p(R1,CPE0)-p(R2,CPE1)-CPE2'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.eis.elements import ELEMENTS, Element

__all__ = ["Circuit", "parse_circuit"]

_CDC_SYMBOLS = {"R": "R", "C": "C", "L": "L", "Q": "CPE", "W": "W", "O": "Wo", "T": "Ws",
                "G": "G"}


@dataclass(frozen=True)
class _Leaf:
    name: str
    element: Element


@dataclass(frozen=True)
class _Node:
    kind: str  # "series" or "parallel"
    children: tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class Circuit:
    """A parsed circuit: its tree, element names in order, and parameter names in order."""

    text: str
    tree: Any

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(leaf.name for leaf in _leaves(self.tree))

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(n for leaf in _leaves(self.tree) for n in leaf.element.parameter_names(leaf.name))

    def parameter_units(self) -> dict[str, str]:
        """Unit of every parameter, by name."""
        return {n: spec.unit
                for leaf in _leaves(self.tree)
                for n, spec in zip(leaf.element.parameter_names(leaf.name), leaf.element.parameters,
                                   strict=True)}

    def impedance(self, frequency: Any, parameters: Mapping[str, float] | Sequence[float]) -> np.ndarray:
        """Z [Ohm] at ``frequency`` [Hz] for ``parameters`` (a mapping by name, or a vector in
        ``parameter_names`` order)."""
        omega = 2.0 * np.pi * np.asarray(frequency, dtype=float)
        values = self._vector(parameters)
        position = iter(range(len(values)))
        return _evaluate(self.tree, omega, values, position)

    def impedance_and_jacobian(self, frequency: Any, values: Any) -> tuple[np.ndarray, np.ndarray]:
        """Z [Ohm] and the analytic Jacobian dZ/dp for parameter vectors in
        ``parameter_names`` order.

        ``values`` is one vector (P,) with ``frequency`` (N,): Z is (N,) and the Jacobian
        (N, P). For a batch, ``values`` is (B, P) and ``frequency`` (N,) or (B, N): Z is
        (B, N) and the Jacobian (B, N, P).
        """
        omega = 2.0 * np.pi * np.asarray(frequency, dtype=float)
        values = np.asarray(values, dtype=float)
        if values.shape[-1] != len(self.parameter_names) or values.ndim > 2:
            raise InputError(f"{self.to_string()} has {len(self.parameter_names)} parameters, got an "
                             f"array of shape {values.shape}", source="parameters")
        params = [values[..., k, None] if values.ndim == 2 else values[k] for k in range(values.shape[-1])]
        z, columns = _evaluate_with_gradient(self.tree, omega, params, iter(params))
        if z.ndim < omega.ndim or (values.ndim == 2 and z.ndim == 1):
            z = np.broadcast_to(z, np.broadcast_shapes(z.shape, omega.shape, (values.shape[0], 1)))
        return z, np.stack(np.broadcast_arrays(*columns, z), axis=-1)[..., :-1]

    def _vector(self, parameters: Mapping[str, float] | Sequence[float]) -> np.ndarray:
        names = self.parameter_names
        if isinstance(parameters, Mapping):
            missing = [n for n in names if n not in parameters]
            unknown = [n for n in parameters if n not in names]
            if missing or unknown:
                parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                    [f"unknown {', '.join(unknown)}"] if unknown else [])
                raise InputError(f"parameters for {self.to_string()}: {'; '.join(parts)}",
                                 source="parameters")
            return np.array([float(parameters[n]) for n in names])
        vector = np.asarray(parameters, dtype=float)
        if vector.shape != (len(names),):
            raise InputError(f"{self.to_string()} has {len(names)} parameters, got {vector.size}",
                             source="parameters")
        return vector

    def to_string(self) -> str:
        """The circuit in impedance.py's notation."""
        return _format(self.tree)


def _leaves(tree: Any) -> list[_Leaf]:
    if isinstance(tree, _Leaf):
        return [tree]
    return [leaf for child in tree.children for leaf in _leaves(child)]


def _evaluate(tree: Any, omega: np.ndarray, values: np.ndarray, position: Any) -> np.ndarray:
    if isinstance(tree, _Leaf):
        params = [values[next(position)] for _ in tree.element.parameters]
        return tree.element.impedance(omega, *params)
    parts = [_evaluate(child, omega, values, position) for child in tree.children]
    if tree.kind == "series":
        return np.sum(parts, axis=0)
    return 1.0 / np.sum([1.0 / part for part in parts], axis=0)


def _evaluate_with_gradient(tree: Any, omega: np.ndarray, params: list[Any],
                            position: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """Z of a subtree and dZ/dp for each of its parameters, by the chain rule: in series
    dZ/dp = dZ_i/dp; in parallel (Z = 1/Σ 1/Z_i) dZ/dp = (Z/Z_i)² dZ_i/dp."""
    if isinstance(tree, _Leaf):
        own = [next(position) for _ in tree.element.parameters]
        z, columns = tree.element.gradient(omega, *own)
        return z, list(columns)
    parts = [_evaluate_with_gradient(child, omega, params, position) for child in tree.children]
    if tree.kind == "series":
        z = parts[0][0]
        for zi, _ in parts[1:]:
            z = z + zi
        return z, [c for _, cols in parts for c in cols]
    admittance = 1.0 / parts[0][0]
    for zi, _ in parts[1:]:
        admittance = admittance + 1.0 / zi
    z = 1.0 / admittance
    columns = []
    for zi, cols in parts:
        factor = (z / zi) ** 2
        columns += [factor * c for c in cols]
    return z, columns


def _format(tree: Any) -> str:
    if isinstance(tree, _Leaf):
        return tree.name
    if tree.kind == "series":
        return "-".join(_format(c) for c in tree.children)
    return "p(" + ",".join(_format(c) for c in tree.children) + ")"


def parse_circuit(text: str) -> Circuit:
    """Parse a circuit in impedance.py's notation or Boukamp's CDC (see module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"a circuit must be a non-empty string, got {text!r}", source="circuit")
    compact = "".join(text.split())
    is_cdc = re.fullmatch(r"[RCLQWOTG()\[\]]+", compact) is not None and not re.search(r"\d", compact)
    tree = _CdcParser(compact).parse() if is_cdc else _DashParser(compact).parse()
    names = [leaf.name for leaf in _leaves(tree)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"element name used twice: {', '.join(repeated)} in {text!r}",
                         source="circuit")
    return Circuit(compact, tree)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> None:
        raise InputError(f"{why} at position {self.pos + 1} in circuit {self.text!r}",
                         source="circuit")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""


class _DashParser(_Parser):
    """series := term ('-' term)* ; term := 'p(' series (',' series)+ ')' | NAME."""

    _NAME = re.compile(r"([A-Za-z]+)(\d+)")

    def parse(self) -> Any:
        tree = self.series()
        if self.pos != len(self.text):
            self.fail(f"unexpected {self.peek()!r}")
        return tree

    def series(self) -> Any:
        terms = [self.term()]
        while self.peek() == "-":
            self.pos += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else _Node("series", tuple(terms))

    def term(self) -> Any:
        if self.text.startswith("p(", self.pos):
            self.pos += 2
            branches = [self.series()]
            while self.peek() == ",":
                self.pos += 1
                branches.append(self.series())
            if not self.peek():
                self.fail("'p(' is not closed")
            if self.peek() != ")":
                self.fail(f"expected ',' or ')', got {self.peek()!r}")
            self.pos += 1
            if len(branches) < 2:
                self.fail("p(…) needs at least two branches")
            return _Node("parallel", tuple(branches))
        match = self._NAME.match(self.text, self.pos)
        if match is None:
            self.fail("expected an element such as R0 or CPE1, or p(")
        symbol = match.group(1)
        if symbol not in ELEMENTS:
            self.fail(f"unknown element {symbol!r} (known: {', '.join(ELEMENTS)})")
        self.pos = match.end()
        return _Leaf(match.group(0), ELEMENTS[symbol])


class _CdcParser(_Parser):
    """Boukamp's CDC: top level and [...] in series, (...) in parallel."""

    def parse(self) -> Any:
        self.counts: dict[str, int] = {}
        tree = self.group("series", closing="")
        if self.pos != len(self.text):
            self.fail(f"unexpected {self.peek()!r}")
        return tree

    def group(self, kind: str, closing: str) -> Any:
        items = []
        while self.peek() and self.peek() not in ")]":
            char = self.peek()
            self.pos += 1
            if char == "(":
                items.append(self.group("parallel", ")"))
            elif char == "[":
                items.append(self.group("series", "]"))
            else:
                symbol = _CDC_SYMBOLS[char]
                index = self.counts.get(symbol, 0)
                self.counts[symbol] = index + 1
                items.append(_Leaf(f"{symbol}{index}", ELEMENTS[symbol]))
        if closing:
            if self.peek() != closing:
                self.fail(f"{'(' if closing == ')' else '['!r} is not closed")
            self.pos += 1
        if not items:
            self.fail("empty brackets")
        if kind == "parallel" and len(items) < 2:
            return items[0]
        return items[0] if len(items) == 1 else _Node(kind, tuple(items))
