import json

import pytest

from sales_iterable.skill import route_targets
from sales_iterable.tools import ToolInputError, make_tools, tool_from_function


def test_schema_is_derived_from_the_signature():
    def lookup(term: str, limit: int = 3, exact: bool = False) -> list:
        """Find a term."""
        return [term, limit, exact]

    tool = tool_from_function(lookup)
    schema = tool.schema()
    assert schema["name"] == "lookup" and schema["description"] == "Find a term."
    props = schema["input_schema"]["properties"]
    assert props["term"]["type"] == "string" and props["limit"]["default"] == 3
    assert schema["input_schema"]["required"] == ["term"]
    assert json.loads(tool.call({"term": "x"})) == ["x", 3, False]
    with pytest.raises(ToolInputError, match="limit"):
        tool.call({"term": "x", "limit": "lots"})
    with pytest.raises(ToolInputError, match="JSON object"):
        tool.call(["x"])


def test_route_tool_enum_is_the_routing_table(retriever):
    tools = {t.name: t for t in make_tools(retriever)}
    skill = tools["route_to_skill"].schema()["input_schema"]
    enum = skill["$defs"]["RouteSkill"]["enum"]
    assert enum == list(route_targets())
    with pytest.raises(ToolInputError):
        tools["route_to_skill"].call({"skill": "/sales-evil", "reason": "x"})


def test_search_tool_returns_passages_with_pairs(retriever):
    search = {t.name: t for t in make_tools(retriever)}["search_reference"]
    passages = json.loads(search.call({"query": "品牌亲和度", "k": 2}))
    assert len(passages) == 2 and passages[0]["lang"] == "zh" and passages[0]["pair_text"]
    english = json.loads(search.call({"query": "品牌亲和度", "k": 2, "language": "en"}))
    assert english[0]["lang"] == "en"
    with pytest.raises(ToolInputError):
        search.call({"query": "", "k": 2})
