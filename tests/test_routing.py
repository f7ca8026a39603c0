import pytest

from sales_iterable.skill import load_skill, route_skill_enum, route_targets
from sales_iterable.routing import handoff

# (prompt, expected route or None, whether an Iterable part is answered too)
CASES = [
    ("How do I set up SPF, DKIM and DMARC for my sending domain?", "/sales-deliverability", False),
    ("我们的邮件进了垃圾邮件箱,怎么提升送达率?", "/sales-deliverability", False),
    ("In Iterable, how do I authenticate my sending domain, and what DMARC policy should we use?", "/sales-deliverability", True),
    ("SendGrid vs Postmark for password reset emails?", "/sales-transactional-email", False),
    ("Which transactional email provider should we compare for receipts?", "/sales-transactional-email", False),
    ("How do I connect Iterable to Salesforce with Zapier?", "/sales-integration", True),
    ("怎么用Make把Iterable和HubSpot CRM对接?", "/sales-integration", True),
    ("How do I build a Canvas in Braze?", "/sales-braze", False),
    ("Braze的Content Cards怎么配置?", "/sales-braze", False),
    ("How do Customer.io campaigns handle segments?", "/sales-customerio", False),
    ("Klaviyo flows for abandoned carts", "/sales-klaviyo", False),
    ("What are email marketing best practices for newsletter cadence?", "/sales-email-marketing", False),
    ("邮件营销有什么通用策略可以提升打开率?", "/sales-email-marketing", False),
    ("What's a good push notification strategy across tools to raise opt-in?", "/sales-push-notification", False),
    ("推送通知的通用策略有哪些?", "/sales-push-notification", False),
    ("In-app messaging best practices for onboarding, regardless of platform", "/sales-in-app-messaging", False),
    ("How should I do cold outreach and prospecting for my sales pipeline?", "/sales-do", False),
    ("How do I create a welcome journey in Studio?", None, True),
    ("我怎么在Iterable中对邮件主题做A/B测试?", None, True),
    ("What's the rate limit for bulk track events?", None, True),
    ("Iterable push notifications not delivering on iOS", None, True),
    ("What are best practices for Brand Affinity segmentation in Iterable?", None, True),
    ("How does Iterable's Mobile Inbox compare to what I know from other tools?", None, True),
    ("Smart Ingest同步失败怎么办", None, True),
]


@pytest.mark.parametrize("prompt, skill, answered", CASES)
def test_routing_prompts(prompt, skill, answered, retriever):
    from sales_iterable.backends.offline import classifier_for
    from sales_iterable.understand import understand

    u = understand(prompt, retriever.embedder.embed_query(prompt), classifier_for(retriever))
    assert u.route == skill
    assert u.iterable_part == answered


def test_enough_routing_cases():
    assert len(CASES) >= 20
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in p) for p, _, _ in CASES) >= 6
    assert {s for _, s, _ in CASES if s} == set(route_targets())  # every target is exercised


def test_route_enum_is_the_routing_table():
    assert [s.value for s in route_skill_enum()] == list(dict.fromkeys(s for _, s in load_skill().routes))


def test_handoff_when_installed_and_when_not(tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".claude/skills/sales-braze").mkdir(parents=True)
    (home / ".claude/skills/sales-braze/SKILL.md").write_text(
        "---\nname: sales-braze\ndescription: Braze platform help for Canvas and Content Cards.\n---\nbody\n")
    (project / ".claude/skills/sales-klaviyo").mkdir(parents=True)
    (project / ".claude/skills/sales-klaviyo/SKILL.md").write_text(
        "---\nname: sales-klaviyo\ndescription: \"Klaviyo help\"\n---\n")
    braze = handoff("/sales-braze", "Braze question", home=home, cwd=project)
    assert braze.installed and braze.description == "Braze platform help for Canvas and Content Cards."
    assert braze.install_command is None
    klaviyo = handoff("/sales-klaviyo", "Klaviyo question", home=home, cwd=project)
    assert klaviyo.installed and klaviyo.description == "Klaviyo help" and "project" in klaviyo.location
    missing = handoff("/sales-do", "unsure", home=home, cwd=project)
    assert not missing.installed and missing.install_command == "npx skills add sales-skills/sales --skill sales-do"


@pytest.mark.parametrize("bad", ["/sales-../../etc", "sales-braze", "/sales-unknown", "/SALES-BRAZE"])
def test_handoff_rejects_anything_outside_the_table(bad, tmp_path):
    with pytest.raises(ValueError):
        handoff(bad, "x", home=tmp_path, cwd=tmp_path)
