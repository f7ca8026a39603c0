"""The offline answer's own sentences, in both languages: openings, gaps, handoffs, assumptions.
Every other line of an offline answer is a passage's text with its section id."""

from __future__ import annotations

from ...language import Lang
from ...retrieve import Hit
from ...routing import Handoff
from ...understand import COMPETITORS

TEXT = {
    "en": {
        "none": "I could not find this in the Iterable reference I have, so I will not guess at an answer.",
        "unknown": "The reference does not mention {terms}, so I cannot confirm what Iterable offers there; Iterable's team can.",
        "gap": "The reference does not give {thing} for this; the nearest facts it has:",
        "gap_things": {"endpoint": "an API endpoint", "url": "an address", "price": "a price", "limit": "a limit",
                       "retention": "a retention period", "duration": "a duration", "frequency": "a frequency", "size": "a size limit",
                       "menu": "a menu location",
                       "number": "a figure"},
        "yes": "Yes — ", "no": "No — ", "no_need": "No — ", "no_such": "No — ", "yes_if": "Yes, with a condition ({condition}) — ", "not_forever": "Not indefinitely ({condition}) — ",
        "not_directly": "Yes, once this is done ({condition}) — ",
        "contradiction": "The reference is not consistent on this:",
        "gap_yes_no": "The reference does not answer this directly; the closest it says:",
        "figure": "The reference gives its own figure for this:",
        "directions": "In short: {into} brings data into Iterable, while {out} takes Iterable data out.",
        "versus": {"below": "Yours ({mine}) is below the reference's benchmark ({range}).",
                   "within": "Yours ({mine}) is within the reference's benchmark ({range}).",
                   "above": "Yours ({mine}) is above the reference's benchmark ({range})."},
        "plan": "The reference lists what each plan includes; what it says about this:",
        "no_steps": "The reference names this but does not give steps to set it up; what it does say:",
        "no_entry": "The reference has no troubleshooting steps for this problem (only for: {entries}); what it says about it:",
        "no_history": "There is no earlier question in this conversation, so I answered this on its own.",
        "orphan": "There is no earlier question in this conversation, and on its own this one does not say what it is about.",
        "map": "The reference covers these parts of {topic}:",
        "map_more": "Related, in {topic}:",
        "setup_steps": "The getting-started checklist's steps that involve this, in order:",
        "checklist": "Work through the {topic} in this order:",
        "start_with": "Start with check {n}: {step}",
        "route_only": "This is a general question rather than Iterable configuration, so another skill fits better: {skill} ({reason}).",
        "route_mixed": "The general part of your question is better served by {skill} ({reason}).",
        "competitor_only": "This is about {name} rather than Iterable, so its own skill fits better: {skill}.",
        "competitor_mixed": "For the {name} side of your question, {skill} fits better.",
        "installed": "It is installed ({location}): {description} Run: {skill} <your question>",
        "install": "Install it with: {command}",
        "dated": "Pricing is as of March 2026: verify current pricing with Iterable sales.",
        "assume_routed": "You want general guidance that is not specific to Iterable's configuration.",
        "assume_ui": "You work in the Iterable web app; API details are noted where they matter.",
        "assume_api": "You are integrating through the REST API or SDKs.",
        "assume_setup": "You are setting this up for the first time.",
        "assume_troubleshoot": "It is set up already and is not behaving as expected.",
        "assume_optimize": "It is running already and you want better results.",
        "assume_area": "I took this to be mostly about {topic}, the closest part of the reference; say if you meant something else.",
        "assume_overview": "You want an overview of {topic} rather than one setting in it; ask about that setting for the detail.",
        "assume_other_language": "Your question does not seem to be in English or Chinese, so I answered in English.",
        "topic_join": ", ",
    },
    "zh": {
        "none": "我在现有的Iterable参考资料中没有找到相关内容,因此不做猜测。",
        "unknown": "参考资料中没有提到{terms},因此无法确认Iterable在这方面的情况,建议向Iterable团队确认。",
        "gap": "参考资料没有给出这方面的{thing};以下是最相关的内容:",
        "gap_things": {"endpoint": "API接口", "url": "地址", "price": "价格", "limit": "限制数值",
                       "retention": "数据保留期限", "duration": "具体时长", "frequency": "频率", "size": "大小上限", "menu": "菜单位置", "number": "具体数字"},
        "yes": "是的——", "no": "不行——", "no_need": "不需要——", "no_such": "没有——", "yes_if": "可以,但有前提({condition})——", "not_forever": "不是无限期的({condition})——",
        "not_directly": "可以,但要先做到这一步({condition})——",
        "contradiction": "参考资料在这一点上前后不一致:",
        "gap_yes_no": "参考资料没有直接回答这一点;最接近的说法是:",
        "figure": "参考资料给出的数字是:",
        "directions": "简单说:{into}把数据导入Iterable,{out}把Iterable的数据导出。",
        "versus": {"below": "你们的{mine}低于参考资料给出的基准值({range})。",
                   "within": "你们的{mine}在参考资料给出的基准值({range})之内。",
                   "above": "你们的{mine}高于参考资料给出的基准值({range})。"},
        "plan": "参考资料按套餐列出了包含的内容,与此相关的是:",
        "no_steps": "参考资料提到了这项功能,但没有给出具体设置步骤;它提到的内容如下:",
        "no_entry": "参考资料没有这个问题的排查步骤(只有:{entries});相关的说明如下:",
        "no_history": "这里没有之前的问题,所以我单独回答了这个问题。",
        "orphan": "这里没有之前的问题,单看这个问题无法判断你指的是哪一部分。",
        "map": "参考资料涵盖{topic}的以下方面:",
        "map_more": "相关内容({topic}):",
        "setup_steps": "入门检查清单中涉及这一项的步骤(按顺序):",
        "checklist": "按{topic}的顺序逐项完成:",
        "start_with": "先看第{n}项:{step}",
        "route_only": "这属于通用问题而非Iterable配置,更适合使用其他技能:{skill}({reason})。",
        "route_mixed": "问题中通用的部分更适合交给 {skill}({reason})。",
        "competitor_only": "这是关于{name}而不是Iterable的问题,更适合使用它自己的技能:{skill}。",
        "competitor_mixed": "问题中关于{name}的部分更适合交给 {skill}。",
        "installed": "该技能已安装({location}):{description} 使用方式:{skill} <你的问题>",
        "install": "安装命令:{command}",
        "dated": "价格为2026年3月的信息,请以Iterable销售的最新报价为准。",
        "assume_routed": "你需要的是不局限于Iterable配置的通用建议。",
        "assume_ui": "你在Iterable控制台中操作;涉及API的地方会单独说明。",
        "assume_api": "你是通过REST API或SDK对接的开发人员。",
        "assume_setup": "你是第一次搭建这项功能。",
        "assume_troubleshoot": "相关功能已经配置好,但表现不符合预期。",
        "assume_optimize": "相关功能已在运行,你想提升效果。",
        "assume_area": "我理解你主要在问{topic}(参考资料中最接近的部分);如果不是,请告诉我。",
        "assume_overview": "你想先了解{topic}的整体情况,而不是其中某一项设置;如需细节,可以具体问那一项。",
        "assume_other_language": "",
        "topic_join": "、",
    },
}


ROUTE_REASON_ZH = {
    "/sales-email-marketing": "非Iterable专属的邮件营销策略",
    "/sales-push-notification": "跨工具的推送通知策略",
    "/sales-in-app-messaging": "跨工具的应用内消息策略",
    "/sales-transactional-email": "事务性邮件服务商对比",
    "/sales-deliverability": "跨工具的SPF/DKIM/DMARC与送达率设置",
    "/sales-integration": "对接Iterable与CRM、数仓等其他工具",
    "/sales-braze": "Braze专属问题",
    "/sales-customerio": "Customer.io专属问题",
    "/sales-klaviyo": "Klaviyo专属问题",
    "/sales-do": "Iterable以外的销售目标,由路由技能匹配",
}


ROUTE_REASON_EN = {
    "/sales-email-marketing": "email marketing strategy that is not Iterable-specific",
    "/sales-push-notification": "push notification strategy across tools",
    "/sales-in-app-messaging": "in-app messaging strategy across tools",
    "/sales-transactional-email": "comparing transactional email providers",
    "/sales-deliverability": "SPF/DKIM/DMARC and deliverability across tools",
    "/sales-integration": "connecting Iterable to a CRM, a data warehouse and other tools",
    "/sales-braze": "Braze-specific questions belong to its own skill",
    "/sales-customerio": "Customer.io-specific questions belong to its own skill",
    "/sales-klaviyo": "Klaviyo-specific questions belong to its own skill",
    "/sales-do": "a sales objective outside Iterable; the router finds the right skill",
}


def handoff_lines(route: str, lang: Lang, mixed: bool, hand: Handoff) -> list[str]:
    words = TEXT[lang]
    reason = (ROUTE_REASON_ZH if lang == "zh" else ROUTE_REASON_EN)[route]
    if route in COMPETITORS:
        # A question about another platform is not "general": say which one it is about.
        lines = [words["competitor_mixed" if mixed else "competitor_only"].format(name=COMPETITORS[route][0], skill=route)]
    else:
        lines = [words["route_mixed" if mixed else "route_only"].format(skill=route, reason=reason)]
    if hand.installed:
        lines.append(words["installed"].format(location=hand.location, description=hand.description or "", skill=route))
    else:
        lines.append(words["install"].format(command=hand.install_command))
    return lines


def cite(text: str, hit: Hit) -> str:
    return f"{text} [{hit.section}]"


def topic(hits: list[Hit], lang: Lang) -> str:
    titles = list(dict.fromkeys(h.heading.split(" > ")[-1] for h in hits))[:3]
    return TEXT[lang]["topic_join"].join(titles)
