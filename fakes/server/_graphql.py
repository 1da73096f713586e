"""Parse, validate and execute one GraphQL request against the fake's schema.

Documents are parsed and validated once per distinct text (the SDK sends the
same few documents over and over), then executed with a field resolver that
calls the view method of the field's name (see :mod:`fakes.server._handlers`).
Domain errors become GraphQL errors shaped like W&B's: ``{"message", "path",
"locations", "extensions": {"code"}}`` with HTTP 200, which the SDK turns into
``wandb.errors.CommError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)

from artifact_guard._errors import (
    AliasedVersionError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ProtectedAliasError,
    RepositoryError,
)

from ._fast import execute_query
from ._handlers import Context, MutationRoot, QueryRoot
from ._schema import schema

__all__ = ["GraphQLOutcome", "operation_name", "run_graphql"]


@dataclass(frozen=True)
class GraphQLOutcome:
    """The JSON body to send and what the request log records."""

    body: dict[str, Any]
    operation: str
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Prepared:
    document: DocumentNode | None
    operations: tuple[tuple[str, str], ...]
    """(operation type, name) of every operation in the document."""
    errors: tuple[GraphQLError, ...]


@lru_cache(maxsize=512)
def _prepare(query: str) -> _Prepared:
    try:
        document = parse(query)
    except GraphQLError as e:
        return _Prepared(None, (), (e,))
    operations = tuple(
        (d.operation.value, d.name.value if d.name else "")
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    return _Prepared(document, operations, tuple(validate(schema(), document)))


def _pick(document: DocumentNode, given: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if given is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name is not None and op.name.value == given), None)


def operation_name(query: str, given: str | None) -> str:
    """The operation's name: as given, else parsed from the document, else ``"anonymous"``."""
    if given:
        return given
    prepared = _prepare(query)
    for _, name in prepared.operations:
        if name:
            return name
    if prepared.document is None:
        return "malformed"
    return "anonymous"


def _resolve_field(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    if isinstance(source, dict):
        return source.get(info.field_name)
    value = getattr(source, info.field_name, None)
    if callable(value):
        return value(**args)
    return value


def _resolve_type(value: Any, info: GraphQLResolveInfo[Any], abstract_type: Any) -> str | None:
    return getattr(value, "typename", None)


_CODES: tuple[tuple[type[BaseException], str], ...] = (
    (AliasedVersionError, "CONFLICT"),
    (ProtectedAliasError, "PERMISSION_ERROR"),
    (PermissionDeniedError, "PERMISSION_ERROR"),
    (NotFoundError, "NOT_FOUND"),
    (ConflictError, "CONFLICT"),
    (RepositoryError, "INTERNAL"),
    (ValueError, "BAD_USER_INPUT"),
)


def _error_json(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    code = "GRAPHQL_VALIDATION_FAILED"
    if original is not None:
        code = next((c for t, c in _CODES if isinstance(original, t)), "INTERNAL")
        if code == "INTERNAL" and not isinstance(original, RepositoryError):
            # A bug in the fake, not a state of the world: say so without a traceback.
            out["message"] = f"internal error in the fake server: {type(original).__name__}: {original}"
    out["extensions"] = {**(out.get("extensions") or {}), "code": code}
    return out


def run_graphql(ctx: Context, payload: Any) -> GraphQLOutcome:
    """Execute one request body (already decoded JSON)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        message = "request body must be a JSON object with a string 'query'"
        return GraphQLOutcome({"errors": [{"message": message}]}, "malformed", (message,))
    query: str = payload["query"]
    variables = payload.get("variables") or {}
    given = payload.get("operationName") or None
    name = operation_name(query, given)
    if not isinstance(variables, dict):
        message = "'variables' must be a JSON object"
        return GraphQLOutcome({"errors": [{"message": message}]}, name, (message,))
    prepared = _prepare(query)
    if prepared.errors:
        errors = [_error_json(e) for e in prepared.errors]
        if prepared.document is not None:
            # Name the operation so an unsupported one is never mistaken for a bug elsewhere.
            for e in errors:
                e["message"] = f"operation {name!r} is not supported by the fake W&B server: {e['message']}"
        return GraphQLOutcome({"errors": errors}, name, tuple(e["message"] for e in errors))
    assert prepared.document is not None
    operation = _pick(prepared.document, given)
    if operation is not None and operation.operation.value == "query" and ctx.fast:
        try:
            data = execute_query(schema(), prepared.document, operation, QueryRoot(ctx), variables)
        except Exception:  # noqa: S110 - any surprise: graphql-core answers, with exact errors
            pass
        else:
            return GraphQLOutcome({"data": data}, name)
    kind = operation.operation.value if operation is not None else "query"
    root: Any = MutationRoot(ctx) if kind == "mutation" else QueryRoot(ctx)
    result = cast(
        ExecutionResult,
        execute(
            schema(),
            prepared.document,
            root_value=root,
            context_value=ctx,
            variable_values=variables,
            operation_name=given,
            field_resolver=_resolve_field,
            type_resolver=_resolve_type,
        ),
    )
    body: dict[str, Any] = {"data": result.data}
    messages: tuple[str, ...] = ()
    if result.errors:
        body["errors"] = [_error_json(e) for e in result.errors]
        messages = tuple(e["message"] for e in body["errors"])
    return GraphQLOutcome(body, name, messages)
