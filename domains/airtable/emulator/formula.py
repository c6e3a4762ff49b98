"""A subset of Airtable's formula language, enough for ``filterByFormula``.

Supported: ``{Field}``, string and number literals, ``= != < > <= >=``, ``&``,
parentheses, and the functions AND, OR, NOT, RECORD_ID, TRUE, FALSE, BLANK,
LOWER, UPPER, LEN. Anything else answers 422 INVALID_FILTER_BY_FORMULA, as
Airtable does for a formula it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domains.airtable.emulator.errors import ApiProblem, invalid

TOKEN = re.compile(r"""\s*(?:
    (?P<field>\{[^}]*\})
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|=|<|>|&|-)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
)""", re.VERBOSE)
COMPARISONS = ("=", "!=", "<", ">", "<=", ">=")

Lookup = Callable[[str], Any]
Node = Callable[[Lookup, str], Any]


def refuse(message: str) -> ApiProblem:
    return invalid("INVALID_FILTER_BY_FORMULA", f"The formula for filtering records is "
                                                f"invalid: {message}")


def tokenize(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(source.rstrip()):
        match = TOKEN.match(source, position)
        if match is None or match.lastgroup is None:
            raise refuse(f"unexpected text at {source[position:position + 10]!r}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


@dataclass
class Parser:
    tokens: list[tuple[str, str]]
    index: int = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1] != value):
            raise refuse(f"expected {value or 'more'}, found {token[1] or 'the end'!r}")
        self.index += 1
        return token

    def expression(self) -> Node:
        left = self.concat()
        if self.peek()[1] in COMPARISONS:
            op = self.take()[1]
            right = self.concat()
            return lambda get, rid: _compare(op, left(get, rid), right(get, rid))
        return left

    def concat(self) -> Node:
        left = self.unary()
        while self.peek()[1] == "&":
            self.take()
            right, before = self.unary(), left
            left = (lambda a, b: lambda get, rid: _text(a(get, rid)) + _text(b(get, rid)))(
                before, right)
        return left

    def unary(self) -> Node:
        if self.peek()[1] == "-":
            self.take()
            inner = self.primary()
            return lambda get, rid: -(_number(inner(get, rid)))
        return self.primary()

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "field":
            name = value[1:-1]
            return lambda get, rid: get(name)
        if kind == "string":
            literal = re.sub(r"\\(.)", r"\1", value[1:-1])
            return lambda get, rid: literal
        if kind == "number":
            number = float(value) if "." in value else int(value)
            return lambda get, rid: number
        if value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if kind == "name":
            return self.call(value.upper())
        raise refuse(f"unexpected {value!r}")

    def call(self, name: str) -> Node:
        self.take("(")
        args: list[Node] = []
        while self.peek()[1] != ")":
            args.append(self.expression())
            if self.peek()[1] == ",":
                self.take()
        self.take(")")
        return _function(name, args)


def _function(name: str, args: list[Node]) -> Node:
    simple: dict[str, Callable[[list[Any]], Any]] = {
        "AND": lambda values: int(all(_truthy(v) for v in values)),
        "OR": lambda values: int(any(_truthy(v) for v in values)),
        "NOT": lambda values: int(not _truthy(values[0])) if values else 1,
        "TRUE": lambda values: 1,
        "FALSE": lambda values: 0,
        "BLANK": lambda values: None,
        "LOWER": lambda values: _text(values[0]).lower(),
        "UPPER": lambda values: _text(values[0]).upper(),
        "LEN": lambda values: len(_text(values[0])),
    }
    if name == "RECORD_ID":
        return lambda get, rid: rid
    if name not in simple:
        raise refuse(f"unknown function {name}()")
    apply = simple[name]
    return lambda get, rid: apply([arg(get, rid) for arg in args])


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def _text(value: Any) -> str:
    value = _plain(value)
    return "" if value is None else str(value)


def _number(value: Any) -> float:
    value = _plain(value)
    if value in (None, ""):
        return 0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0


def _truthy(value: Any) -> bool:
    value = _plain(value)
    return value not in (None, "", 0)


def _compare(op: str, left: Any, right: Any) -> int:
    left, right = _plain(left), _plain(right)
    if isinstance(left, str) or isinstance(right, str):
        a: Any = _text(left)
        b: Any = _text(right)
    else:
        a, b = _number(left), _number(right)
    outcome = {"=": a == b, "!=": a != b, "<": a < b, ">": a > b,
               "<=": a <= b, ">=": a >= b}[op]
    return int(outcome)


def compile_formula(source: str) -> Node:
    parser = Parser(tokenize(source))
    node = parser.expression()
    if parser.peek()[0] != "end":
        raise refuse(f"unexpected {parser.peek()[1]!r}")
    return node


def matches(node: Node, lookup: Lookup, record_id: str) -> bool:
    return _truthy(node(lookup, record_id))
