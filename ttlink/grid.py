"""The GRID of `ttlink compile`: three integer expressions over the kernel's integer arguments,
constexprs and literals with `+ - * / % ( )`. Pure.

Evaluation follows C on int64_t: arguments are widened first, division truncates, `%` takes the
sign of the dividend. Constant sub-expressions are folded here, so a constant divisor of 0 or a
constant that overflows is an error now. What depends on arguments is emitted as C that checks
each step that can overflow or divide by zero (found by interval arithmetic over the argument
types), and the entry point returns CUDA_ERROR_INVALID_VALUE instead of launching a wrong grid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from .errors import TtlinkError
from .metadata import C_IDENTIFIER, Param
from .signature import BOOLEAN_TYPES, INTEGER_TYPES, shortened

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INVALID = "return CUDA_ERROR_INVALID_VALUE;"
# Numbers and names are matched loosely (Unicode digits, `1_024`, `é`) to name them in the error.
_TOKEN = re.compile(r"\s*(?:(?P<number>\d\w*)|(?P<name>[^\W\d]\w*)|(?P<op>[-+*/%()]))")
_DECIMAL = re.compile(r"[0-9]+")
# Values of the narrower argument types; int64_t and uint64_t (widened) take all of int64_t.
_C_TYPE_RANGES = {
    f"{sign}int{bits}_t": (0, 2**bits - 1) if sign else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    for sign in ("", "u")
    for bits in (8, 16, 32)
}
_CHECKED_BUILTINS = {"+": "__builtin_add_overflow", "-": "__builtin_sub_overflow", "*": "__builtin_mul_overflow"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2}
_ATOM, _UNARY = 4, 3


@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class Arg:
    """An integer argument of the entry point, widened to int64_t."""

    name: str
    c_type: str


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr


Expr = Const | Arg | Neg | Binary


@dataclass(frozen=True)
class Grid:
    """The three folded dimensions, x, y, z."""

    dims: tuple[Expr, Expr, Expr]

    @property
    def text(self) -> str:
        """The grid as C expressions without checks, in canonical spelling."""
        return ", ".join(_render(dim)[0] for dim in self.dims)


def parse_grid(text: str, params: Sequence[Param]) -> Grid:
    """Checks GRID against the kernel's parameters and folds its constants. Raises TtlinkError."""
    parts = text.split(",")
    if len(parts) != 3:
        raise TtlinkError(f"grid '{shortened(text)}': must have 3 comma-separated expressions, got {len(parts)}")
    by_name = {p.name: p for p in params}
    dims = tuple(_Parser(part, text, by_name).parse() for part in parts)
    return Grid(dims=(dims[0], dims[1], dims[2]))


class _Parser:
    """Recursive descent over one dimension: sum := product (+|- product)*, product := unary
    (*|/|% unary)*, unary := (+|-) unary | number | name | ( sum )."""

    def __init__(self, part: str, text: str, by_name: dict[str, Param]):
        self.part, self.text, self.by_name = part, text, by_name
        self.tokens: list[tuple[str, str]] = []  # (kind, token)
        pos = 0
        while part[pos:].strip():
            match = _TOKEN.match(part, pos)
            if match is None:
                self.fail(f"unexpected '{part[pos:].strip()}'")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match[kind]))
            pos = match.end()
        self.index = 0

    def fail(self, message: str) -> NoReturn:
        raise TtlinkError(f"grid '{shortened(self.text)}': {message}")

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def parse(self) -> Expr:
        expr = self.sum()
        kind, token = self.peek()
        if kind == "end":
            return expr
        if token == ")":
            self.fail("unbalanced or empty parentheses")
        self.fail(f"missing operator before '{token}'")

    def sum(self) -> Expr:
        expr = self.product()
        while self.peek()[1] in ("+", "-"):
            op = self.take()
            expr = self.fold(op, expr, self.product())
        return expr

    def product(self) -> Expr:
        expr = self.unary()
        while self.peek()[1] in ("*", "/", "%"):
            op = self.take()
            expr = self.fold(op, expr, self.unary())
        return expr

    def take(self) -> str:
        self.index += 1
        return self.tokens[self.index - 1][1]

    def unary(self) -> Expr:
        kind, token = self.peek()
        if kind == "end":
            self.fail(f"incomplete expression '{self.part.strip()}'")
        self.take()
        if token == "+":
            return self.unary()
        if token == "-":
            operand = self.unary()
            if isinstance(operand, Const):
                return Const(self.checked(-operand.value))
            return Neg(operand)
        if token == "(":
            if self.peek()[1] == ")":
                self.fail("unbalanced or empty parentheses")
            expr = self.sum()
            if self.peek()[0] == "end":
                self.fail(f"incomplete expression '{self.part.strip()}'")
            if self.take() != ")":
                self.fail(f"missing operator before '{self.tokens[self.index - 1][1]}'")
            return expr
        if token == ")":
            self.fail("unbalanced or empty parentheses")
        if kind == "op":
            self.fail(f"operator '{token}' lacks its left operand")
        if kind == "number":
            if not _DECIMAL.fullmatch(token):
                self.fail(f"'{token}' is not a decimal integer literal (ASCII digits only)")
            return Const(self.literal(token))
        return self.name(token)

    def literal(self, digits: str) -> int:
        if len(digits.lstrip("0")) > 19:  # int() refuses thousands of digits with a ValueError
            self.fail(f"{shortened(digits)} does not fit in int64_t")
        return self.checked(int(digits), f"{digits} does not fit in int64_t")

    def name(self, name: str) -> Expr:
        if not C_IDENTIFIER.fullmatch(name):
            self.fail(f"'{name}' is not an ASCII C identifier")
        param = self.by_name.get(name)
        if param is None:
            self.fail(f"'{name}' is not a parameter of the kernel")
        if not param.is_arg:
            if isinstance(param.value, bool) or not isinstance(param.value, int):
                self.fail(f"constexpr '{name}' is not an integer")
            return Const(self.checked(param.value, f"constexpr '{name}' = {param.value} does not fit in int64_t"))
        if param.type not in INTEGER_TYPES or param.type in BOOLEAN_TYPES:
            self.fail(f"'{name}' is not an integer argument")
        return Const(1) if param.hint == 1 else Arg(name, param.c_type or "")

    def checked(self, value: int, message: str = "constant arithmetic overflows int64_t") -> int:
        if not INT64_MIN <= value <= INT64_MAX:
            self.fail(message)
        return value

    def fold(self, op: str, left: Expr, right: Expr) -> Expr:
        if op in "/%" and right == Const(0):
            self.fail("division by zero (a divisor is the constant 0)")
        if isinstance(left, Const) and isinstance(right, Const):
            return Const(self.checked(_c_arithmetic(op, left.value, right.value)))
        return Binary(op, left, right)


def _c_arithmetic(op: str, a: int, b: int) -> int:
    """`a op b` as C computes it, in unbounded integers: division truncates toward zero."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return quotient if op == "/" else a - b * quotient


def _range(expr: Expr) -> tuple[int, int]:
    """The values `expr` can take, given its arguments' C types. A step that can leave int64_t
    is checked in C, so the values that reach the next step are clamped to int64_t."""
    if isinstance(expr, Const):
        return expr.value, expr.value
    if isinstance(expr, Arg):
        return _C_TYPE_RANGES.get(expr.c_type, (INT64_MIN, INT64_MAX))
    low, high = _step_range(expr)
    return max(low, INT64_MIN), min(high, INT64_MAX)


def _step_range(expr: Neg | Binary) -> tuple[int, int]:
    """The values of the last step of `expr` in unbounded integers: beyond int64_t, it can overflow."""
    if isinstance(expr, Neg):
        low, high = _range(expr.operand)
        return -high, -low
    left, right = _range(expr.left), _range(expr.right)
    if expr.op in "+-*":
        corners = [_c_arithmetic(expr.op, a, b) for a in left for b in right]
        return min(corners), max(corners)
    # Division and remainder: the divisor's sides without 0 (a 0 divisor is tested first).
    sides = [side for side in ((right[0], min(right[1], -1)), (max(right[0], 1), right[1])) if side[0] <= side[1]]
    if expr.op == "/":
        corners = [_c_arithmetic("/", a, b) for a in left for side in sides for b in side]
        return min(corners), max(corners)
    largest = max(abs(b) for side in sides for b in side) - 1  # |remainder| < |divisor|
    return (max(left[0], -largest) if left[0] < 0 else 0), (min(left[1], largest) if left[1] > 0 else 0)


def _can_overflow(expr: Neg | Binary) -> bool:
    low, high = _step_range(expr)
    return low < INT64_MIN or high > INT64_MAX


def _render(expr: Expr) -> tuple[str, int]:
    """`expr` as a C expression without checks, and its precedence."""
    return _Emitter("").expression(expr)


class _Emitter:
    """C statements that compute one dimension; checked steps go to temporaries `NAME1`, ..."""

    def __init__(self, name: str):
        self.name = name
        self.statements: list[str] = []
        self.temporaries = 0

    def expression(self, expr: Expr) -> tuple[str, int]:
        if isinstance(expr, Const):
            return (f"({expr.value})" if expr.value < 0 else str(expr.value)), _ATOM
        if isinstance(expr, Arg):
            return f"(int64_t){expr.name}", _UNARY
        if isinstance(expr, Neg):
            operand, precedence = self.expression(expr.operand)
            if precedence < _UNARY:
                operand = f"({operand})"
            if self.name and _can_overflow(expr):
                return self.checked("-", "0", operand)
            return ("- " if operand.startswith(("-", "+")) else "-") + operand, _UNARY
        left, left_precedence = self.expression(expr.left)
        right, right_precedence = self.expression(expr.right)
        precedence = _PRECEDENCE[expr.op]
        if left_precedence < precedence:
            left = f"({left})"
        if right_precedence <= precedence:
            right = f"({right})"
        if self.name and expr.op in _CHECKED_BUILTINS and _can_overflow(expr):
            return self.checked(expr.op, left, right)
        if self.name and expr.op in "/%":
            divisor, dividend = _range(expr.right), _range(expr.left)
            tests = []
            if divisor[0] <= 0 <= divisor[1]:
                tests.append(f"{right} == 0")
            if dividend[0] == INT64_MIN and divisor[0] <= -1 <= divisor[1]:
                tests.append(f"({left} == INT64_MIN && {right} == -1)")
            if tests:
                self.statements.append(f"if ({' || '.join(tests)}) {INVALID}")
        return f"{left} {expr.op} {right}", precedence

    def checked(self, op: str, left: str, right: str) -> tuple[str, int]:
        self.temporaries += 1
        result = f"{self.name}{self.temporaries}"
        self.statements.append(f"int64_t {result};")
        self.statements.append(f"if ({_CHECKED_BUILTINS[op]}({left}, {right}, &{result})) {INVALID}")
        return result, _ATOM


def grid_c(grid: Grid) -> tuple[list[str], tuple[str, str, str]]:
    """The statements an entry point runs before the launch (each returns
    CUDA_ERROR_INVALID_VALUE on overflow or a zero divisor) and the three dimensions."""
    statements: list[str] = []
    dims = []
    for axis, dim in zip("xyz", grid.dims, strict=True):
        emitter = _Emitter(f"ttlink_grid_{axis}")
        dims.append(emitter.expression(dim)[0])
        statements += emitter.statements
    return statements, (dims[0], dims[1], dims[2])
