import re
from pathlib import Path

import pytest

from sales_iterable.chunker import build_chunks, load_chunks
from sales_iterable.corpus import CorpusError, check_alignment, load_glossary, load_sections, parse_markdown
from sales_iterable.language import detect_language
from sales_iterable.tokens import count_tokens

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def sections():
    return load_sections(CORPUS)


@pytest.fixture(scope="module")
def chunks():
    return load_chunks(CORPUS)


def _section(sections, lang, sid):
    return next(s for s in sections[lang] if s.id == sid)


def _rows(section):
    return [row for block in section.blocks if block.kind == "table" for row in block.items]


def _cells(row):
    return [c.strip() for c in row.strip().strip("|").split("|")]


def test_languages_share_section_ids_and_table_shapes(sections):
    en, zh = sections["en"], sections["zh"]
    assert [s.id for s in en] == [s.id for s in zh]
    assert len(en) >= 20
    for a, b in zip(en, zh):
        assert [len(_rows(a))] == [len(_rows(b))], a.id
        assert [(blk.kind, len(blk.items)) for blk in a.blocks] == [(blk.kind, len(blk.items)) for blk in b.blocks]


def test_reference_sections_the_issue_names_are_present(sections):
    ids = {s.id for s in sections["en"]}
    for sid in ["studio", "campaigns", "channels", "ai-suite", "data-integration", "data-model", "experiments",
                "segmentation", "api-reference", "integrations", "pricing", "getting-started", "key-metrics",
                "gotchas", "troubleshooting", "related-skills", "examples"]:
        assert sid in ids


def test_no_table_cell_is_empty(sections):
    for lang in ("en", "zh"):
        for section in sections[lang]:
            for row in _rows(section):
                assert all(_cells(row)), f"{lang}/{section.id}: empty cell in {row!r}"


def test_channels_table_restored(sections):
    for lang, first in (("en", "Email"), ("zh", "邮件")):
        rows = _rows(_section(sections, lang, "channels"))
        assert _cells(rows[0])[0] == first
        assert _cells(rows[-1])[0] == "WhatsApp"
        assert "Handlebars" in rows[0] and "Meta" in rows[-1]


def test_data_model_and_api_tables_restored(sections):
    for lang in ("en", "zh"):
        model = {_cells(r)[0]: _cells(r)[1] for r in _rows(_section(sections, lang, "data-model"))}
        assert len(model) == 7
        joined = " ".join(model.values())
        for field in ["`email`", "`userId`", "`dataFields`", "`phoneNumber`", "`eventName`", "`createdAt`",
                      "`messageMedium`", "`listType`", "`catalogName`", "`templateId`", "`experimentId`"]:
            assert field in joined, (lang, field)
        api = [_cells(r)[1] for r in _rows(_section(sections, lang, "api-reference"))]
        assert len(api) == 14
        assert all(re.fullmatch(r"`(GET|POST) /api/\S+`", cell) for cell in api), api
        assert "`POST /api/catalogs/{catalogName}/items`" in api


def test_displaced_inline_code_restored():
    for lang in ("en", "zh"):
        text = (CORPUS / f"{lang}.md").read_text(encoding="utf-8")
        for code in ["`https://api.iterable.com`", "`https://api.eu.iterable.com`", "`Api-Key`", "`Authorization`",
                     "`registerForRemoteNotifications()`", "`setDeviceToken()`", "`/api/users/bulkUpdate`",
                     "`POST /api/events/trackBulk`", "`/api/events/track`", "`/sales-do`"]:
            assert code in text, (lang, code)
        # the scrape glued code onto the next bullet ("...dataFields - Track events"): none of that remains
        assert not re.search(r"\)\S*/api/", text)
        assert "+eventNamedataFields" not in text


def test_policy_steps_are_not_reference():
    for lang, phrase in (("en", "What's your role?"), ("zh", "你的角色是什么")):
        assert phrase not in (CORPUS / f"{lang}.md").read_text(encoding="utf-8")


def test_examples_stay_out_of_the_chunks(sections, chunks):
    assert not _section(sections, "en", "examples").indexed
    assert not _section(sections, "zh", "example-welcome-journey").indexed  # inherited
    example_text = [item for lang in ("en", "zh") for s in sections[lang] if not s.indexed
                    for b in s.blocks for item in b.items]
    assert example_text
    for chunk in chunks:
        assert not chunk.section.startswith("example")
        for item in example_text:
            assert item not in chunk.text


def test_instructions_to_an_assistant_are_never_chunks(sections, chunks):
    from sales_iterable.corpus import instruction_texts

    texts = instruction_texts(sections)
    # the overview, the gotchas preamble and the related-skills catalogue, in both languages
    assert any(t.startswith("Help the user") for t in texts) and any(t.startswith("为用户解答") for t in texts)
    assert any(t.startswith("Best-effort from research") for t in texts) and any(t.startswith("基于调研整理") for t in texts)
    assert sum("/sales-" in t for t in texts) == 20
    for chunk in chunks:
        assert chunk.section not in ("overview", "related-skills")
        for text in texts:
            assert text not in chunk.text and text not in chunk.context
    # marking a block as instructions does not renumber the facts after it
    assert min(c.ordinal for c in chunks if c.section == "gotchas") == 1


@pytest.mark.parametrize("bad, why", [
    ("# T {#t}\n\n::: instructions\ntext\n", "never closed"),
    ("# T {#t}\n\ntext\n:::\n", "unbalanced"),
])
def test_unbalanced_instruction_blocks_are_errors(bad, why):
    from sales_iterable.corpus import CorpusError, parse_markdown

    with pytest.raises(CorpusError, match=why):
        parse_markdown(bad)


def test_chunks_are_paired_and_carry_structure(chunks):
    by_id = {c.id: c for c in chunks}
    assert len(by_id) == len(chunks)
    for chunk in chunks:
        pair = by_id[chunk.pair_id]
        assert pair.pair_id == chunk.id and pair.lang != chunk.lang
        assert (pair.section, pair.ordinal) == (chunk.section, chunk.ordinal)
        assert chunk.id == f"{chunk.section}.{chunk.ordinal}.{chunk.lang}"
        assert chunk.section_path[-1] == chunk.section
        assert 0 < chunk.tokens == count_tokens(chunk.text)
    row = by_id["api-reference.0.en"]
    assert row.text.startswith("| Action | Method & endpoint |") and "/api/users/update" in row.text
    assert by_id["smart-ingest.0.en"].section_path == ("data-integration", "smart-ingest")


def test_alignment_check_names_the_drift():
    en = parse_markdown("# T {#t}\n\n## A {#a}\n\n- one\n- two\n")
    zh = parse_markdown("# T {#t}\n\n## A {#a}\n\n- 一\n")
    with pytest.raises(CorpusError, match="section 'a'"):
        check_alignment(en, zh)
    with pytest.raises(CorpusError, match="only in zh: \\['b'\\]"):
        check_alignment(en, parse_markdown("# T {#t}\n\n## A {#a}\n\n- 一\n- 二\n\n## B {#b}\n"))


def test_malformed_markdown_is_rejected():
    with pytest.raises(CorpusError, match="without an id"):
        parse_markdown("# T {#t}\n\n## No id here\n")
    with pytest.raises(CorpusError, match="duplicate"):
        parse_markdown("# T {#t}\n\n## A {#a}\n\n## B {#a}\n")


def test_long_units_split_into_aligned_parts():
    en_sent = " ".join(f"Sentence number {i} talks about journeys and delays at some length." for i in range(40))
    zh_sent = "".join(f"第{i}句讲的是旅程和延迟的设置方法。" for i in range(40))
    sections = {
        "en": parse_markdown(f"# T {{#t}}\n\n{en_sent}\n"),
        "zh": parse_markdown(f"# T {{#t}}\n\n{zh_sent}\n"),
    }
    chunks = build_chunks(sections, max_tokens=120)
    en = [c for c in chunks if c.lang == "en"]
    zh = [c for c in chunks if c.lang == "zh"]
    assert len(en) == len(zh) > 1
    assert all(c.tokens <= 200 for c in chunks)
    assert " ".join(c.text for c in en) == en_sent


def test_glossary_terms_exist_in_the_reference():
    text = (CORPUS / "en.md").read_text(encoding="utf-8") + (CORPUS / "zh.md").read_text(encoding="utf-8")
    pairs = load_glossary(CORPUS)
    assert ("品牌亲和度", "Brand Affinity") in pairs and ("苹果手机", "iOS") in pairs
    for alias, term in pairs:
        for word in term.split():
            assert word in text, (alias, word)


@pytest.mark.parametrize(
    "text, lang",
    [
        ("How do I build a welcome journey?", "en"),
        ("我怎么创建欢迎旅程?", "zh"),
        ("Smart Ingest 的同步频率最快多少?", "zh"),
        ("How do I set up 短信 quiet hours?", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text).lang == lang


def test_token_counts_use_cl100k_offline():
    assert count_tokens("hello world") == 2  # the cl100k_base encoding


def test_phrasings_name_real_units_in_both_languages(chunks):
    from collections import Counter

    from sales_iterable.corpus import load_phrasings

    phrasings = load_phrasings(CORPUS)
    units = {c.unit for c in chunks}
    assert phrasings and {p.unit for p in phrasings} == units  # every passage, and nothing else
    per = Counter((p.unit, p.lang) for p in phrasings)
    assert all(per[(unit, lang)] >= 3 for unit in units for lang in ("en", "zh"))
    assert all(detect_language(p.text).lang == "en" for p in phrasings if p.lang == "en")
