"""The pydantic models the API's dataclasses describe: what the OpenAPI document is made from, and what the
tests hold ``ledger.shapes`` to. Never imported by a function serving requests.

A dataclass becomes a model of the same name, docstring and fields; a field's ``Rule`` becomes its pydantic
``Field``, ``Kind`` its pydantic type (``AwareDatetime``, ``HttpUrl``); a ``Closed`` one refuses extra fields, and
``computed`` names its properties that are written with its fields (``{"id": "description"}``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, computed_field, create_model

from ledger.shapes import Closed, Kind, Rule

_MODELS: dict[type, type[BaseModel]] = {}
_KINDS: dict[str, Any] = {"AwareDatetime": pydantic.AwareDatetime, "HttpUrl": pydantic.HttpUrl}


def model_of(cls: type) -> type[BaseModel]:
    """The pydantic model of the dataclass ``cls``."""
    if cls not in _MODELS:
        hints = typing.get_type_hints(cls, include_extras=True)
        fields: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.default is not dataclasses.MISSING:
                default = spec.default
            elif spec.default_factory is not dataclasses.MISSING:
                default = Field(default_factory=spec.default_factory)
            else:
                default = ...
            fields[spec.name] = (documented(hints[spec.name]), default)
        doc = cls.__doc__
        if doc and doc.startswith(f"{cls.__name__}("):  # the signature dataclasses write when there is none
            doc = None
        if issubclass(cls, Closed):
            config = ConfigDict(extra="forbid", strict=cls.strict)
        else:
            config = ConfigDict(populate_by_name=True)
        model = create_model(
            cls.__name__, __config__=config, __doc__=doc, __module__=cls.__module__, **fields
        )
        computed = {
            name: _computed(description) for name, description in getattr(cls, "computed", {}).items()
        }
        if computed:
            model = type(cls.__name__, (model,), {"__doc__": doc, "__module__": cls.__module__, **computed})
        _MODELS[cls] = model
    return _MODELS[cls]


def _computed(description: str) -> Any:
    """A computed string field, for the schema only: the dataclass computes its value."""

    def read(self: Any) -> str:
        raise NotImplementedError

    return computed_field(description=description)(property(read))


def documented(hint: Any) -> Any:
    """``hint`` with every dataclass, ``Rule`` and ``Kind`` in it swapped for pydantic's own."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *marks = typing.get_args(hint)
        for mark in marks:
            if isinstance(mark, Kind):
                base = _KINDS[mark.name]
        kept = [Field(**m.field) if isinstance(m, Rule) else m for m in marks if not isinstance(m, Kind)]
        base = documented(base)
        return Annotated[(base, *kept)] if kept else base
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return model_of(hint)
    if origin in (typing.Union, types.UnionType):
        members = tuple(documented(m) for m in typing.get_args(hint))
        return typing.Union[members]  # noqa: UP007  # built from a tuple
    if origin in (list, dict):
        return origin[tuple(documented(a) for a in typing.get_args(hint))]
    return hint


def documented_doc(doc: Any) -> Any:
    """A route's documentation (``responses={...: {"model": WriteOut}}``) with its dataclasses swapped."""
    if isinstance(doc, dict):
        return {k: documented_doc(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [documented_doc(v) for v in doc]
    if dataclasses.is_dataclass(doc) and isinstance(doc, type):
        return model_of(doc)
    return doc
