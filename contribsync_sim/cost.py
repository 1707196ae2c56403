"""GitHub's GraphQL resource limits, computed the way GitHub documents them.

- Every connection needs ``first`` or ``last`` between 1 and 100 when it selects ``nodes`` or
  ``edges`` (a ``totalCount``-only connection is allowed without them, as on github.com).
- Nodes: each connection contributes ``first`` times the product of its ancestors' ``first``; a call may
  request at most 500,000.
- Points: each connection costs one request per parent node that must be fetched (the product of
  its ancestors' sizes); the sum divided by 100, rounded to the nearest whole number, at least 1.

Written by hand: no library computes GitHub's formula; it walks graphql-core's AST and schema.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    get_named_type,
    value_from_ast_untyped,
)

if TYPE_CHECKING:
    from graphql import DocumentNode, GraphQLSchema, SelectionSetNode

MAX_NODES = 500_000
MAX_PAGE = 100


class LimitError(Exception):
    """The query breaks a GitHub resource limit (GitHub answers these with an error, not data)."""


@dataclass(frozen=True)
class Cost:
    requests: int
    nodes: int

    @property
    def points(self) -> int:
        return max(1, math.floor(self.requests / 100 + 0.5))


def _is_connection(type_: Any) -> bool:  # noqa: ANN401 - any graphql-core type
    named = get_named_type(type_)
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection") and "pageInfo" in named.fields


class _Walker:
    """Walks one operation, multiplying page sizes down the tree."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.requests = 0
        self.nodes = 0

    def walk(self, selection_set: SelectionSetNode | None, parent: Any, multiplier: int) -> None:  # noqa: ANN401
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                self.field(selection, parent, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                self.walk(selection.selection_set,
                          self.schema.get_type(condition.name.value) if condition else parent, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                self.walk(fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value),
                          multiplier)

    def field(self, node: FieldNode, parent: Any, multiplier: int) -> None:  # noqa: ANN401
        name = node.name.value
        if name.startswith("__") or not hasattr(parent, "fields"):
            return
        definition = parent.fields[name]
        child_type = get_named_type(definition.type)
        if not _is_connection(definition.type):
            self.walk(node.selection_set, child_type, multiplier)
            return
        size = self.page_size(node, name)
        self.requests += multiplier
        self.nodes += multiplier * size
        self.walk(node.selection_set, child_type, multiplier * max(size, 1))

    def page_size(self, node: FieldNode, name: str) -> int:
        args = {a.name.value: value_from_ast_untyped(a.value, self.variables) for a in node.arguments or ()}
        size = args.get("first") if args.get("first") is not None else args.get("last")
        if size is None:
            items = {"nodes", "edges"} & {s.name.value for s in (node.selection_set.selections if node.selection_set
                                                                  else ()) if isinstance(s, FieldNode)}
            if items:
                raise LimitError(f"You must provide a `first` or `last` value to properly paginate the "
                                 f"`{name}` connection.")
            return 0
        if not 1 <= int(size) <= MAX_PAGE:
            raise LimitError(f"Requesting {size} records on the `{name}` connection exceeds the `first` limit "
                             f"of 100 records.")
        return int(size)


def query_cost(schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None = None) -> Cost:
    """Requests, nodes and points of the document's first operation; ``LimitError`` when over a limit."""
    walker = _Walker(schema, document, variables or {})
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    walker.walk(operation.selection_set, schema.query_type, 1)
    cost = Cost(requests=walker.requests, nodes=walker.nodes)
    if cost.nodes > MAX_NODES:
        raise LimitError(f"This query requests up to {cost.nodes:,} possible nodes which exceeds the maximum "
                         f"limit of 500,000.")
    return cost


__all__ = ["MAX_NODES", "Cost", "LimitError", "query_cost"]
