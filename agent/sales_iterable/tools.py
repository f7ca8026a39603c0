"""The tools the model may call. Each is a plain typed function; its JSON schema is
derived from the signature (a pydantic model built from the parameters), never written
by hand. Bad input raises ToolInputError, which the agent loop returns to the model as an
`is_error` tool result."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, get_type_hints

from pydantic import BaseModel, Field, ValidationError, create_model

from .retrieve import Retriever
from .routing import handoff
from .skill import route_skill_enum


class ToolInputError(ValueError):
    """The model called a tool with arguments that do not fit its schema."""


@dataclass
class Tool:
    name: str
    description: str
    arguments: type[BaseModel]
    function: Callable[..., Any]

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.arguments.model_json_schema()}

    def call(self, raw: Any) -> str:
        """Validate `raw` against the derived schema, run, and return JSON text."""
        if not isinstance(raw, dict):
            raise ToolInputError(f"{self.name} takes a JSON object of arguments, got {type(raw).__name__}")
        try:
            args = self.arguments.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
            raise ToolInputError(f"invalid arguments for {self.name}: {problems}") from None
        result = self.function(**{name: getattr(args, name) for name in self.arguments.model_fields})
        return json.dumps(result, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def tool_from_function(function: Callable[..., Any], names: dict[str, Any] | None = None) -> Tool:
    """A Tool whose argument model mirrors `function`'s parameters and annotations;
    `names` resolves annotations that name types made at run time (the routing targets)."""
    hints = get_type_hints(function, localns=names, include_extras=True)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(function).parameters.items():
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (hints[name], default)
    model = create_model(f"{function.__name__}_arguments", **fields)
    doc = inspect.getdoc(function) or function.__name__
    return Tool(name=function.__name__, description=doc, arguments=model, function=function)


def make_tools(retriever: Retriever, budget_tokens: int = 1800, home: Path | None = None, cwd: Path | None = None) -> list[Tool]:
    RouteSkill = route_skill_enum()
    def search_reference(
        query: Annotated[str, Field(min_length=1, max_length=2000, description="what to look up, in the user's language")],
        k: Annotated[int, Field(ge=1, le=10, description="how many passages")] = 5,
        language: Annotated[Literal["en", "zh"] | None, Field(description="passage language; default: the query's")] = None,
    ) -> list[dict[str, Any]]:
        """Search the bilingual Iterable reference (English/Chinese). Returns passages with their id, section id, text and the aligned passage in the other language (pair_text). Cite the section ids you use."""
        hits = retriever.search(query, k=k, budget_tokens=budget_tokens, lang=language)
        return [h.model_dump() for h in hits]

    def route_to_skill(
        skill: Annotated[RouteSkill, Field(description="the sibling skill's slash command, from the routing table")],
        reason: Annotated[str, Field(min_length=1, max_length=300, description="one line: why this skill fits")],
    ) -> dict[str, Any]:
        """Hand a general-strategy question (not Iterable configuration) to a sibling skill. Returns the slash command, whether the skill is installed (with its description) or the command that installs it."""
        return handoff(RouteSkill(skill).value, reason, home=home, cwd=cwd).model_dump()

    return [tool_from_function(search_reference), tool_from_function(route_to_skill, names={"RouteSkill": RouteSkill})]
