"""The official API specifications the fidelity tests hold the sandbox and the product to, kept in
the repository so a fresh clone passes `make test` (README.md here says where they come from), and
the one walker that finds properties an answer carries but its schema does not declare.

Every test that reads a spec goes through this module: nothing else names a path to them.
"""

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SPECS_DIR = Path(__file__).resolve().parent
PROCORE_DIR = SPECS_DIR / "procore"
XERO_DIR = SPECS_DIR / "xero"
# Where the copies came from: ../shared/specs beside the checkout, on the machines that have it.
# Only the drift test looks there.
ORIGIN_DIR = SPECS_DIR.parents[2] / "shared" / "specs"

Schema = dict[str, Any]


@functools.cache
def procore_operation(operation_id: str) -> dict:
    """One Procore operation (path, parameters, request body, responses) by its operation id."""
    return json.loads((PROCORE_DIR / f"{operation_id}.json").read_text())


def procore_response_schema(operation_id: str, status: int) -> Schema:
    return procore_operation(operation_id)["responses"][str(status)].get("schema") or {}


@functools.cache
def xero_document(name: str) -> dict:
    """A Xero OpenAPI document as published (e.g. "xero_accounting.yaml")."""
    return yaml.safe_load((XERO_DIR / name).read_text())


def _no_refs(schema: Schema) -> Schema:
    return schema


def undeclared_properties(
    instance: Any, schema: Schema, *, resolve: Callable[[Schema], Schema] = _no_refs, path: str = "$"
) -> list[str]:
    """The paths of every property in `instance` its `schema` does not declare, through nested
    objects and arrays. Strict on purpose: an object whose schema lists no properties (a bare
    `object`, or `{}`) declares none, so each key it carries is reported; only an explicit
    `additionalProperties` lets undeclared keys through. `resolve` follows `$ref`s."""
    schema = resolve(schema)
    composed = {"allOf", "anyOf", "oneOf"} & set(schema)
    if composed:
        # Not needed by the specs we hold; refuse rather than pass what we cannot read.
        raise ValueError(f"{path}: the walker does not read {sorted(composed)}")
    if isinstance(instance, dict):
        return _undeclared_in_object(instance, schema, resolve, path)
    if isinstance(instance, list):
        items = schema.get("items") or {}
        found: list[str] = []
        for index, item in enumerate(instance):
            found += undeclared_properties(item, items, resolve=resolve, path=f"{path}[{index}]")
        return found
    return []


def _undeclared_in_object(
    instance: dict, schema: Schema, resolve: Callable[[Schema], Schema], path: str
) -> list[str]:
    declared = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    found: list[str] = []
    for key, value in instance.items():
        if key in declared:
            found += undeclared_properties(value, declared[key], resolve=resolve, path=f"{path}.{key}")
        elif isinstance(extra, dict):
            found += undeclared_properties(value, extra, resolve=resolve, path=f"{path}.{key}")
        elif extra is not True:
            found.append(f"{path}.{key}")
    return found
