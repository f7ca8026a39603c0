"""What a question is, before it is answered: whether it belongs to a sibling skill, its
goal, the context it already states, what kind of thing it asks for, whether it is a
yes/no question, and whether it only makes sense as a follow-up.

Route and goal come from one mechanism: the labelled example questions in
corpus/intents.tsv (both languages) are embedded once, and the nearest examples of each
label vote. Cue words — a competitor's name, SPF, "429", "收不到" — add a fixed bonus to
their label: they break ties and anchor the obvious cases, the examples generalise to
phrasings no word list foresaw. Negation ("not Iterable-specific", "不限于Iterable")
removes the vote for answering here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from .corpus import tsv_rows
from .embedcache import embedded
from .language import any_word as _any

Goal = Literal["Set up", "Optimize", "Troubleshoot", "Understand"]
GOALS: dict[str, Goal] = {"setup": "Set up", "optimize": "Optimize", "troubleshoot": "Troubleshoot",
                          "understand": "Understand"}
ITERABLE = "iterable"  # the route label for "answer here"
# How many of a label's nearest examples are averaged into its score.
TOP_EXAMPLES = 2
# What a matching cue word adds to its label's score (cosine similarities are ~0.2-0.8).
CUE_BONUS = 0.25
# Without a cue, a route wins only when its examples beat answering here by this much
# (measured on the tune half: wrong cue-less routes came within 0.13).
ROUTE_MARGIN = 0.15


# --- cue words ---------------------------------------------------------------------------

ROUTE_CUES: dict[str, tuple[str, ...]] = {
    "/sales-deliverability": ("spf", "dkim", "dmarc", "deliverability", "sender reputation", "domain warmup", "ip warmup",
                              "warm up", "warmup", "spam folder", "inbox placement", "邮件送达率", "发件人信誉", "垃圾箱",
                              "垃圾邮件", "预热", "域名信誉"),
    "/sales-transactional-email": ("sendgrid", "postmark", "mailgun", "amazon ses", "ses", "transactional email provider",
                                   "事务性邮件"),
    "/sales-do": ("cold email", "cold outreach", "cold outbound", "cold call", "prospecting", "lead generation",
                  "sales pipeline", "discovery call", "outbound sequence", "陌拜", "销售线索", "获客线索", "外呼", "陌生开发"),
}
# A competitor's own features asked about ("in Braze", "Braze's Canvas", "Braze的…"): a
# mere mention ("moving off Braze — what is the Iterable equivalent?") stays here.
# Other platforms with their own skill: the name to show, and how a question spells it.
COMPETITORS = {"/sales-braze": ("Braze", r"braze"), "/sales-customerio": ("Customer.io", r"customer\.?io"),
               "/sales-klaviyo": ("Klaviyo", r"klaviyo")}
_ABOUT_COMPETITOR = (r"\b(in|on|with|inside|within) {name}\b|\b{name}'s\b|\b{name}\s+(canvas(es)?|content cards?|currents|"
                     r"segments?|flows?|forms?|campaigns?|broadcasts?|journeys?|workflows?|lists?|api|sdk|pricing)\b"
                     r"|{name}\s*(的|里|中|上)|^(how|what|where|can|does|is)\b[^?]*\b{name}\b[^?]*\?$"
                     # a comparison: "is Klaviyo a better pick than Iterable?", "Braze 和 Iterable 哪个好"
                     r"|\b{name}\b[^?]*\b(better|worse|cheaper|vs\.?|versus|or iterable)\b|\b(than|vs\.?|versus|compared? (to|with)) {name}\b"
                     r"|{name}[^??]*(还是|比|对比|相比|哪个好|哪个更)"
                     # whether to switch: "should we just move to Klaviyo", "要不要换成Braze"
                     r"|\b(move|moving|switch|switching|migrate|migrating|go|going) (over )?to {name}\b|(换成|换到|迁移到|迁到|转到|搬到)\s*{name}")
# The tool the user came from, told as background to a question about Iterable ("之前用Braze的
# Canvas可以…,现在在Iterable里…"): no question about that tool.
_PAST_TOOL = (r"(之前|以前|原来|过去|从前)(在)?(用|使用|是)(的)?\s*{name}|从\s*{name}\s*(迁|换|搬|转)"
              r"|\b(used to (use|be on|run)|came from|coming from|moved from|migrat\w+ from|switch\w* from|previously (used|on)) {name}\b")
# Connecting a CRM through a no-code connector needs both halves.
CRM = ("salesforce", "hubspot", "pipedrive", "zoho", "crm")
CONNECTORS = ("zapier", "make", "make.com", "no-code connector", "n8n")
# Saying the question is not about Iterable.
NOT_ITERABLE = re.compile(
    r"(not|n't|nothing)\s+(\w+\s+){0,2}iterable[- ]specific|not\s+(specific\s+to|tied\s+to|about)\s+(iterable|any\s+(one\s+)?(platform|tool))"
    r"|regardless\s+of\s+(the\s+)?(platform|tool)|across\s+(tools|platforms)|any\s+platform|in\s+general\b|generally\s+speaking"
    r"|不限于\s*iterable|不局限于|不限平台|不管用什么平台|不管什么平台|通用(的)?(策略|思路|做法|建议)|跨平台|跨工具|一般来说",
    re.I,
)
STRATEGY = ("strategy", "strategies", "best practice", "best practices", "tips", "ideas", "cadence", "how often should",
            "benchmarks across", "in general", "策略", "最佳实践", "思路", "怎么设计", "多久发一次")
# How to raise a rate is a channel's strategy ("推送授权率太低了,怎么提高opt-in?"), not a setting;
# a rate limit is no rate to raise, and whether a feature raises one is a question about it.
RAISING_A_RATE = re.compile(r"\b(how|ways?|tips)\b[^?.]{0,20}\b(improve|increase|boost|raise|grow|lift|get more)\b[^?.]{0,30}(\b(opt[- ]?ins?|engagement|ctr)\b|\brates?\b(?! limit))"
                            r"|(怎么|如何|怎样|咋|办法)[^??,,。]{0,6}(提高|提升|增加|改善|拉高)[^??,,。]{0,12}(率(?!限)|opt-?in|互动)", re.I)
# Things only Iterable has: their presence keeps an Iterable part in a routed question.
ITERABLE_THINGS = ("iterable", "studio", "smart ingest", "brand affinity", "journey assist", "copy assist",
                   "frequency optimization", "send time optimization", "mobile inbox", "embedded message", "catalog",
                   "/api/", "旅程", "品牌亲和")

GOAL_CUES: dict[Goal, tuple[str, ...]] = {
    "Troubleshoot": ("not working", "isn't working", "doesn't work", "not delivering", "not arriving", "not receiving",
                     "failing", "fails", "failed", "error", "errors", "broken", "stopped", "empty", "wrong", "429", "stuck",
                     "nobody", "no one", "didn't", "doesn't", "isn't", "can't", "cannot", "why is", "why are", "why do",
                     "nowhere", "missing", "not showing", "doesn't show", "disappeared", "no option",
                     "badly", "poorly", "underperforming", "dropped", "dropping",
                     "went down", "gone down", "declining", "get nothing", "getting nothing", "receive nothing",
                     "nothing arrives", "nothing shows", "never see", "never get", "never arrive", "see nothing",
                     "nothing happens", "nothing happened", "no data", "zero users", "zero profiles", "zero rows",
                     "haven't landed", "hasn't landed", "nothing landed", "nothing came through", "never shows",
                     "收不到", "失败", "报错", "不工作", "不生效", "异常", "出错", "排查", "挂了", "不对", "没收到",
                     "没有更新", "没更新", "为什么", "空的", "找不到", "一直返回", "被限制", "有问题", "出问题",
                     "下降", "下滑", "变差", "很差", "太差", "效果差", "效果不好", "效果一般", "效果很一般", "不理想", "not performing", "坏了", "坏掉", "不好使", "不灵",
                     "一直是0", "一直为0", "都是0", "不准确", "不太准", "感觉不准", "always 0", "stuck at 0", "shows 0",
                     "showing 0", "always zero", "inaccurate", "looks off", "look off", "seems off", "掉了", "没进来", "进不来", "没有进来", "明明",
                     "看不到", "不显示", "没显示", "没反应", "没有反应", "什么都没", "一个都没", "不见了", "bug",
                     "配置错", "设置错", "弄错", "搞错", "错了", "misconfigured",
                     # typed without the apostrophe
                     "arent", "aren't", "isnt", "doesnt", "didnt", "wont", "not getting", "nobodys", "nobody's",
                     "never gets", "never receive", "never receives", "what gives",
                     "no users", "never show up", "never shows up", "don't show up", "doesn't show up", "not showing up",
                     "aren't showing up", "isn't showing up", "nothing shows up"),
    "Optimize": ("optimize", "improve", "increase", "boost", "reduce", "raise", "lift", "better results", "优化", "提升",
                 "提高", "改进", "降低", "减少"),
    "Set up": ("set up", "setting up", "setup", "configure", "get started", "create", "build", "connect", "enable",
               "how do i", "how can i", "how to", "how do we", "搭建", "创建", "配置", "开启", "接入", "开通", "对接",
               "从哪开始", "怎么", "如何"),
    "Understand": ("what is", "what are", "what's the difference", "difference", "explain", "how does", "是什么",
                   "区别", "原理", "什么是"),
}
ROLE_CUES: dict[str, tuple[str, ...]] = {
    "Developer": ("developer", "engineer", "as a dev", "dev team", "our backend", "our code", "sdk", "开发", "工程师",
                  "研发", "程序员", "服务端", "后端"),
    "Data/analytics": ("analyst", "data team", "data engineer", "analytics team", "数据分析", "数据团队", "分析师"),
    "Marketing ops/admin": ("admin", "marketing ops", "project owner", "管理员", "营销运营"),
    "Marketer": ("marketer", "marketing manager", "campaign manager", "营销人员", "运营人员", "市场部"),
}
GOAL_PRECEDENCE: tuple[Goal, ...] = ("Troubleshoot", "Optimize", "Understand", "Set up")
API_CUES = ("api", "rest", "endpoint", "sdk", "curl", "json", "base url", "header", "429", "429s", "/api/", "接口", "端点")
UI_CUES = ("dashboard", "in the ui", "in the app", "console", "menu", "screen", "where in iterable", "settings", "click",
           "控制台", "后台界面", "页面", "菜单", "在哪里设置", "在哪开")


# --- what kind of thing is asked ---------------------------------------------------------

Ask = Literal["endpoint", "url", "price", "limit", "retention", "duration", "frequency", "size", "menu", "number"]
ASK_CUES: dict[Ask, re.Pattern[str]] = {
    # "Can I trigger a journey from an API call?" asks whether, not which endpoint.
    "endpoint": re.compile(r"\b(api|which|what|the|an|any)\s+endpoints?\b|\bendpoints? (for|to)\b|\b(which|what|the) api (call|route|path)\b|\b(is there|are there|there'?s|any) (an |any )?api (call|route|path)s?\b"
                           r"|\b(which|what) api\b|接口是|哪个接口|什么接口|端点|调哪个|API是哪个"
                           # asking how to do something through the API: the call is the answer ("怎么用API
                           # 把用户加进列表"); not a complaint about a call ("服务端调用API发…看不到")
                           r"|^(how|can|could|is there a way)\b[^?]*\b(via|through|using|over) (the |your |an )?(rest )?api\b"
                           r"|(怎么|如何|怎样|能不能|可以|能否)\s*(用|通过|走)\s*(API|接口)", re.I),
    "url": re.compile(r"\bbase url\b|\bhost(name)?\b|\bapi (host|address|domain)\b|api地址|地址用哪个|域名", re.I),
    # "how much does it cost", "how much is Growth?"; not "how much history do we need"
    "price": re.compile(r"\bhow much\s*([?？]|$|(does|do|is|are|will|would|for|per|it|to pay)\b)|\bprice|\bpricing\b|\bcost|\bfees?\b|\bcharges?\b|多少钱|价格|费用|收费|报价|贵", re.I),
    # "How often may I call it?" asks for a rate limit, not a schedule.
    "limit": re.compile(r"\blimits?\b|\bmax(imum)?\b|\bat most\b|\bhow many (requests|calls|times|variants|tiles)\b"
                        r"|\bhow (often|frequently)\b[^?]*\b(call|hit|request|query|poll)|限流|上限|最多|最大|几次|多少次|调用频率", re.I),
    # How long data is kept: a period, not how often something happens.
    # ("retention" alone is also a lifecycle stage: "onboarding → activation → retention")
    "retention": re.compile(r"\bhow long\b[^?]*\b(keep|kept|store[sd]?|retain(ed)?|hold|held)\b|\bretain\b"
                            r"|\b(data )?retention (period|policy|window|time|limit)s?\b|\bdata retention\b"
                            r"|\bbefore (it|they|the data|data) (gets?|is|are) (deleted|purged|removed)\b"
                            r"|(数据)?(保留|保存|存)(多久|多长(时间)?)|保留期|保存期|数据保留|会不会过期(删除)?|过期删除", re.I),
    # How long to wait or how long something takes: a time, or the condition that ends the wait.
    # "多久过期" is how long; "多久同步一次", how often.
    # "When should we turn on STO?", "什么时候开比较好": the time or condition before it is worth it.
    "duration": re.compile(r"\bhow long\b|(多久|多长时间)(?![^??,,。;;]{0,8}一次)"
                           r"|\bwhen (should|can|could|do|would|is it (safe|ok|okay|worth it) to)\b[^?]*\b(turn(ing)? (it |them |that |this )?on|enable|switch on|activate)\b"
                           r"|(什么时候|何时|多久以后|多久之后)(才)?(可以|能|该|应该)?(开|开启|启用|打开)", re.I),
    "frequency": re.compile(r"\bhow (often|frequently)\b(?![^?]*\b(call|hit|request|query|poll))|\binterval\b"
                            r"|\bhow fast\b|(多久|多长时间)[^??,,。;;]{0,8}一次|(?<!调用)频率|多快", re.I),
    "size": re.compile(r"\bsize\b|\bhow (big|large)\b|多大|大小", re.I),
    # ("问题出在哪", "卡在哪": where the trouble lies, no place in the product)
    "menu": re.compile(r"\bwhere\b[^?]{0,40}\b(find|see|configure[ds]?|set|turn|switch|enable|go|click|check|look|view|located|manage)\b"
                       r"|\bwhere in\b|\bwhere's that\b|\bwhich (menu|screen|tab|page)\b|(?<![出卡])在哪(?!个\s*(header|字段|参数|请求头|头)|些)(里|儿)?(看|找|配置|设置|开|打开|查看|管理)?"
                       r"|哪个菜单|入口在哪|哪一层开", re.I),
    # "How many levels…?", "分几个等级?": the levels are the answer, not a count.
    "number": re.compile(r"\bhow many\b(?! (levels|types|kinds|tiers|stages|labels|options|categories)\b)|\bwhat percent|\bbenchmark\b|\bwhat(?= (open|click|delivery|conversion) rate\b)|\bnormal\b"
                         r"|\bat what(?= (confidence|level|point)\b)|\bwhat(?= (confidence|significance)\b)|多少|百分之|(?<![好十])几个(?!等级|级别|类型|种类|类别|阶段|标签|选项)|基准|置信度", re.I),
}
# A figure with a time unit ("23+ data sources" says nothing about how often or how long).
_TIME_FIGURE = r"\d\s*(\+\s*)?(s|sec|seconds?|min|minutes?|hours?|h|days?|weeks?|months?|秒|分钟|小时|天|周|个?月)\b|\d\s*(秒|分钟|小时|天|周|个?月)"
# What a passage sentence must contain to answer each kind.
ASK_INSTANCE: dict[Ask, re.Pattern[str]] = {
    # (a host is what users call a region's "API endpoint": "a separate EU endpoint?")
    "endpoint": re.compile(r"/api/[\w/{}.]*|https?://api(\.eu)?\.iterable\.com"),
    "url": re.compile(r"https?://\S+|api(\.eu)?\.iterable\.com"),
    "price": re.compile(r"\$\s?\d|\d\s?美元|万美元|USD", re.I),
    "limit": re.compile(r"\d[\d,.]*\s*(\+|k\b|req|requests?|次|/s|/min|per\b|MB|KB|GB|个|条|days?|天|minutes?|分钟|hours?|小时|items?)", re.I),
    "frequency": re.compile(_TIME_FIGURE + r"|every|real-time|实时|hourly|daily|weekly|每(天|周|小时|分钟|月)", re.I),
    "size": re.compile(r"\d\s?(KB|MB|GB|bytes|字节|字符|characters)", re.I),
    # "How long should I wait before picking the winner?" - "wait for 95% confidence"
    "duration": re.compile(_TIME_FIGURE + r"|\bwait (for|until)\b|\buntil\b|等待|直到|足够后|(以上|之后)再", re.I),
    # a period data is kept for, not "kept until the user deletes it" (保留 alone)
    "retention": re.compile(r"\bretained for\b|\b(kept|stored|deleted) (for|after)\b|保留期|保存期|存储期"
                            r"|(保留|保存)(时间|期限|\d)", re.I),
    "menu": re.compile(r"\S ?> ?\S|analytics|分析|Settings|设置|\b(in|inside) (Studio|the dashboard)|per campaign|journey step|"
                       r"\btiles?\b|组件|控制台|入口|按活动|旅程步骤"),
    "number": re.compile(r"\d"),
}

_YES_NO_EN = re.compile(r"^(can|could|does|do|did|is|are|was|will|would|should|has|have|may)\b", re.I)
_YES_NO_ZH = re.compile(r"吗[??]?$|吗[,,。??]|(能不能|可不可以|支不支持|是不是|有没有|要不要|会不会|需不需要|行不行|用不用)")
# Questions that ask for a judgement ("is it broken?", "靠谱吗"), not whether something
# exists or is possible: a passage cannot settle them with a yes or a no.
_CHOICE = re.compile(r"^(is|are)\b(?! (there|it possible)\b).*\bor\b(?! not\b)|还是(?!说?(只|仅))", re.I)
_JUDGEMENT = re.compile(r"\b(broken|normal|too (low|high)|okay|ok|reliable|good enough|worth it|a bug|buggy)\b"
                        r"|靠谱|正常|合理|对吗|对不对|太低|太高|值得|bug|坏了", re.I)
_FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|same (for|deal)|then|but what|ok(ay)?,? (and|what about)|why|how come)\b"
    r"|^same (thing|deal|question|again|for)\b|^(那|那么|还有|那如果|要是|如果是)|呢[??]?$|刚才|刚刚(说|提)|你(说|提到)的|上面(说|提到)的|前面(说|提到)的|(上面|前面)(那|这)(个|些|种)"
    r"|^ok(ay)?,?\s+(so\s+)?(how|what|when|where|and|then)\b|\b(that|this|those) (kicks? in|takes? effect|applies|apply)\b"
    r"|\b(rely on|trust|use|set up|turn on|enable) (that|this|those|these)\s*[?.!]*$|\b(for|of) (that|this|those|these)\s*[?.!]*$"
    # "Can I do that through the API instead?": what "that" is was said before
    r"|^(ok(ay)?,? |and |so )?((can|could|should) (i|we|you)|how (do|can|should|would) (i|we|you)|(is there|any) (a )?way to) (even )?do (that|this|it)\b"
    r"|\bthat (example|answer|snippet|code|query)\b|\bredo (that|this|it)\b|^(ok(ay)?,? )?(and )?(the )?(second|third|next|last) step\b"
    r"|^(那|好的,?|那么)?第[二三四五六七八九十\d]+步"
    r"|\byou (just )?(mentioned|said)\b|\b(that|this) same\b|\b(that|the) (endpoint|one|limit|feature|tile) you\b|\b(same deal|that one)\b|\bthe same\b(?!\s+(thing\s+|one\s+)?as\s+(?!before\b|above\b)\w)(?=\s*(thing|one|for|as|with|deal|question|again|[?？.!]|$))",
    re.I,
)
# "Is it OK to call…", "is it possible that…": an "it" that points forward, not back.
_PRONOUN_START = re.compile(r"^(does|do|can|will) (it|they|that|this)\b|^is (they|that|this)\b"
                            r"|^is it\b(?!(\s+\S+){1,3}?\s+(to|that|if)\b)|^(它|这个|那个)", re.I)


@dataclass(frozen=True)
class Understanding:
    route: str | None  # a routing target ("/sales-braze") or None: answered here
    iterable_part: bool  # the question also asks about Iterable itself
    goal: Goal | None
    goal_said: bool  # a cue word states the goal; otherwise it is the examples' best guess
    role: str | None  # a role the question states
    channel: Literal["api", "ui"] | None  # the way of working it states
    asks: tuple[Ask, ...]  # kinds of things it asks for, most specific first
    yes_no: bool
    follow_up: bool  # only makes sense after an earlier question
    scores: dict[str, float] = field(default_factory=dict, compare=False)  # route label -> score, for bench/tests
    route_said: bool = False  # a cue (a competitor, "not Iterable-specific") chose the route, not a guess

    @property
    def complains(self) -> bool:
        """The question states a problem in so many words (not the examples' guess)."""
        return self.goal == "Troubleshoot" and self.goal_said


def stated_role(text: str) -> str | None:
    return next((role for role, cues in ROLE_CUES.items() if _any(text, cues)), None)


def stated_channel(text: str) -> Literal["api", "ui"] | None:
    if _any(text, API_CUES):
        return "api"
    if _any(text, UI_CUES):
        return "ui"
    return None


# When a question asks for several kinds at once ("the max size"), the most specific
# decides what an answer must contain.
_SPECIFIC_FIRST: tuple[Ask, ...] = ("size", "price", "endpoint", "url", "retention", "duration", "frequency", "limit", "menu", "number")
_NAMED_ENDPOINT = re.compile(r"/api/\w")
_STATUS_CODE = re.compile(r"\b(status|error|response|http) codes?\b|状态码|返回码|错误码", re.I)


# A quantity the question names: "two weeks", "50 per day", "两周", "3个变体".
QUANTITY = re.compile(
    r"\b\d[\d,.]*\s*(%|k\b|percent|seconds?|minutes?|hours?|days?|weeks?|months?|years?|req|requests?|calls?|"
    r"messages?|emails?|users?|MB|KB|GB|variants?|times)"
    r"|\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(seconds?|minutes?|hours?|days?|weeks?|months?|"
    r"times|variants?)\b"
    r"|[\d两二三四五六七八九十百千万]+\s*个?(秒|分钟|小时|天|周|星期|月|次|条|个|%|万)", re.I)


def without_asks(question: str, asks: tuple[Ask, ...]) -> str:
    """The question without the words that say which kind of answer it wants ("how
    often", "多久"): what remains is what it is about."""
    for kind in asks:
        question = ASK_CUES[kind].sub(" ", question)
    return question


def asked_kinds(question: str) -> tuple[Ask, ...]:
    kinds = [kind for kind in _SPECIFIC_FIRST if ASK_CUES[kind].search(question)]
    if "endpoint" in kinds and _NAMED_ENDPOINT.search(question):
        kinds.remove("endpoint")  # it names the endpoint: it asks something about it
    if "limit" in kinds and _STATUS_CODE.search(question):
        kinds.remove("limit")  # "what status code when we hit the rate limit?" asks for the code
        if "number" not in kinds:
            kinds.append("number")
    if "limit" in kinds and is_yes_no(question) and not _AMOUNT.search(question):
        kinds.remove("limit")  # "限流是按每个 API key 算的吗?" asks how the limit works, not its figure
    if "retention" in kinds:
        # "保留多久?": the "how long" is the retention period's, not a second question
        kinds = [kind for kind in kinds if kind not in ("duration", "frequency")]
    return tuple(kinds)


# Words that ask for an amount: a yes/no question without one names a limit as its topic.
_AMOUNT = re.compile(r"\b(how (many|much|often|fast|high|low)|what('s| is| are) the|max(imum)?|at most|up to|limits? (on|to|for))\b"
                     r"|多少|几|最多|最大|上限|数量|\d", re.I)


# Time units a question can ask a figure per; an answer must give the figure per the same unit.
TIME_UNITS: dict[str, re.Pattern[str]] = {
    "second": re.compile(r"per second|a second|/s\b|每秒|/秒", re.I),
    "minute": re.compile(r"per minute|a minute|/min\b|每分钟|/分钟", re.I),
    "hour": re.compile(r"per hour|an hour|hourly|/h\b|每小时|/小时", re.I),
    "day": re.compile(r"per day|a day|daily|/day\b|每天|每日|一天|/天", re.I),
    "month": re.compile(r"per month|a month|monthly|/mo\b|每月|一个月|/月", re.I),
}


def time_units(text: str) -> set[str]:
    return {unit for unit, pattern in TIME_UNITS.items() if pattern.search(text)}


def is_yes_no(question: str) -> bool:
    """Asks whether something is so ("Can one campaign…?", "…, can I do that in one
    campaign?", "支持…吗?"), not for a judgement."""
    if _JUDGEMENT.search(question):
        return False
    clauses = [c.strip() for c in re.split(r"[??.!;—–]|,\s|\s-\s", question) if c.strip()]
    # "is STO turned on per campaign or 全局?", "按活动开还是全局?": which of two, not yes or no
    clauses = [c for c in clauses if not _CHOICE.search(c)]
    # (each clause: "短信支持双向对话吗?比如用户回复…" asks in its first)
    return any(_YES_NO_EN.match(c) or _YES_NO_ZH.search(c) for c in clauses)


def yes_no_sentence(question: str) -> str:
    """The sentence that asks yes or no, when context follows it ("短信能双向聊吗?就是用户回复的
    内容我们这边能收到": the example is no part of what must be settled)."""
    sentences = [s.strip() for s in re.split(r"(?<=[??])\s*", question) if s.strip()]
    sentence = next((s for s in sentences if is_yes_no(s)), question) if len(sentences) > 1 else question
    # "our 设计师 wants interactive emails — is AMP supported?": what is asked after a dash is
    # settled alone, unless it points back at what the dash follows ("…, can I do that…").
    clauses = [c.strip() for c in re.split(r"\s[—–-]+\s|——", sentence) if c.strip()]
    last = clauses[-1] if len(clauses) > 1 else ""
    if last and (_YES_NO_EN.match(last) or _YES_NO_ZH.search(last)) and not POINTS_BACK.search(last):
        return last
    return sentence


# "Does the Webhook tile support OAuth, or is that only for system webhooks?": a yes/no
# with its alternative. A passage about either one would settle it for the wrong one.
ALTERNATIVE = re.compile(r"\bor (is (that|it|this) |are (they|those) )?(just|only)\b|还是(说)?(只|仅)", re.I)


def split_parts(question: str) -> list[str]:
    """Sub-questions of a question that asks two things ("…? …?", "…, and what…")."""
    pieces = [p.strip() for p in re.split(r"(?<=[??])\s*|[;;]\s*", question) if len(p.strip()) > 3]
    if len(pieces) >= 2:
        return pieces[:3]
    # "Which warehouses can Smart Ingest pull from. Plus, is it only user data…?": a question
    # typed with a full stop, then another.
    stop = re.search(r"\.\s+(?:(?:plus|also|and|oh and|btw),?\s+)?(?=[A-Za-z])", question, re.I)
    if stop and _QUESTION_START.match(question) and question.rstrip().endswith(("?", "\uff1f")) and (
            _QUESTION_START.match(question[stop.end():]) or re.match(rf"(?:{_QUESTION_HEAD})", question[stop.end():], re.I)):
        return [question[: stop.start()].strip() + "?", question[stop.end():].strip()]
    if ALTERNATIVE.search(question):
        return [question]  # "X, or is that only for Y?" asks one thing, with its alternative
    # ", and at what confidence…", ", and once it's live what open rate…": a question word
    # within a few words of the conjunction starts a second question.
    match = re.search(r",\s+(and|or)\s+(?=([\w']+,?\s+){0,7}?(what|how|where|which|when|why|whats|hows|wheres|should|can|could|do"
                      r"|does|did|is|are|will|would|has|have)\b)",
                      question, re.I)
    # Without the comma, only a question word and its verb start one, about a thing of its
    # own: "…on trackBulk and how do I auth the api calls?" (not "…between lists and what
    # segments do", nor "…for bulk user updates and what's its rate limit?", one line's answer).
    if not match:
        match = re.search(rf"\s+(and|also)\s+(?={_QUESTION_HEAD})", question, re.I)
        match = match if match and not POINTS_BACK.search(question[match.end():]) else None
    if not match and _QUESTION_START.match(question):
        # "what is 同期群…, how is it different from a dynamic list": a question, a comma, a question
        match = re.search(rf",\s*(?={_QUESTION_HEAD})", question, re.I)
    if match:
        return [question[: match.start()].strip(), question[match.end():].strip()]
    # "STO是干嘛的,上线多久以后开比较合适?": a Chinese question, a comma, another question.
    for comma in re.finditer(r"[,，]", question):
        before, after = question[: comma.start()].strip(), question[comma.end():].strip()
        if _ZH_ASKING.search(before) and _ZH_ASKING.search(after):
            return [before, after]
    return [question]


def asks_nothing(part: str) -> bool:
    """A later sentence that asks nothing and states no problem is context, not a question of
    its own ("Iterable有免费版吗?想先自己注册一个账号试用下", "…? need to know before legal
    signs off"); "顺便说下短信的价格" and "The sync keeps failing." ask or complain."""
    return not (re.search(r"[?呢]\s*$", part) or _QUESTION_START.match(part) or _ZH_ASKING.search(part)
                or _YES_NO_EN.match(part) or re.search(r"\b(how|what|where|which|when|why|who|tell me|explain|show me)\b|说下|说说|讲讲|介绍", part, re.I)
                or asked_kinds(part) or states_problem(part))


# A question word and its verb ("how do", "what's", "whats"): where a second question starts.
_QUESTION_HEAD = r"(how|what|where|which|when|why)('s|s|\s+(do|does|did|can|could|should|is|are|would|will))\b"
_QUESTION_START = re.compile(r"\s*(what|how|where|which|when|why|who|whats|hows|wheres|can|could|does|do|is|are|should|will)\b", re.I)
# Words that make a Chinese clause a question.
_ZH_ASKING = re.compile(r"什么|干嘛|干啥|啥|怎么|怎样|如何|多久|多少|多长|哪|吗|是否|能否|能不能|可不可以|有没有|(?<![好十])几[个种次天]")


# A later part that points back at the first ("…, and should we do it early?", "旅程又怎么被
# 它触发?") is about the first part's topic.
POINTS_BACK = re.compile(r"\b(it|its|they|them|this|these|those)\b|它|这个|这些|那个", re.I)


def with_previous(question: str, previous: str) -> str:
    """What a follow-up is searched with: its own words first ("and Enterprise?" is about
    Enterprise), then the question it follows for the rest of its meaning."""
    return f"{question} {previous}"


# "好的,那第二步…", "got it, and for SMS?": an acknowledgement before what follows up.
_ACKNOWLEDGED = re.compile(r"^(好的|好吧|好|嗯+|行|明白了?|了解了?|收到|谢谢|ok(ay)?|got it|thanks|cool|great|right)\s*([,\uff0c.!\uff01。]|\s[-\u2013\u2014])\s*", re.I)


def is_follow_up(question: str) -> bool:
    text = question.strip()
    rest = _ACKNOWLEDGED.sub("", text, count=1)
    # "…能直接对接吗?Zapier呢?", "We use Shopify. Zapier呢?": a 呢 closing a later sentence asks
    # about the first, not about an earlier question.
    several = len([s for s in re.split(r"(?<=[?。!])|\.(?=\s)", text) if s.strip()]) > 1
    return any(bool(_FOLLOW_UP.search(re.sub(r"呢\??$", "", t) if several else t) or _PRONOUN_START.match(t) or _NO_OBJECT.match(t))
               for t in {text, rest})


# "在后台哪里配置?", "where do I configure?": what to configure was said before.
_NO_OBJECT = re.compile(r"^(在)?(后台|控制台|界面|系统)?(里|里面|上)?(的)?(哪里|哪儿|在哪(里|儿)?|怎么|如何|去哪(里|儿)?)(能|可以)?"
                        r"(配置|设置|开启|打开|开|操作|找到?|看|查看)(呢|啊)?\??$"
                        r"|^(where|how) (do|can|should) (i|we) (configure|set|enable|turn on|find|see)\s*\??$", re.I)


# --- the labelled examples ---------------------------------------------------------------


def load_examples(path: Path) -> list[tuple[str, str]]:
    rows = tsv_rows(path, lambda f: len(f) == 2 and f[0].startswith(("route:", "goal:")) and bool(f[1].strip()),
                    "route:<target>|goal:<goal><TAB>example question")
    return [(label.strip(), text.strip()) for label, text in rows]


class Classifier:
    """Nearest labelled examples, embedded once per embedder and cached in the data dir."""

    def __init__(self, embedder, examples_path: Path, cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self.examples = load_examples(examples_path)
        self.cache_dir = cache_dir

    @cached_property
    def _table(self) -> tuple[list[str], np.ndarray]:
        labels = [label for label, _ in self.examples]
        vectors = embedded(self.embedder, [text for _, text in self.examples], self.cache_dir, "intents")
        return labels, vectors

    def scores(self, vector: np.ndarray, family: str) -> dict[str, float]:
        """label (without its family prefix) -> mean similarity of its nearest examples."""
        labels, vectors = self._table
        sims = vectors @ vector.astype(np.float32)
        by_label: dict[str, list[float]] = {}
        for label, sim in zip(labels, sims):
            fam, _, name = label.partition(":")
            if fam == family:
                by_label.setdefault(name, []).append(float(sim))
        return {name: float(np.mean(sorted(v, reverse=True)[:TOP_EXAMPLES])) for name, v in by_label.items()}


# After a complaint, "where do I look?" asks what to check, not where a menu is.
_WHERE_TO_LOOK = re.compile(r"\bwhere (do|should|can|would) (i|we) (even )?(look|check|start|begin)\b|从哪(里|儿)?(查|看|排查|开始)|该查哪|去哪(里|儿)?查", re.I)


def states_problem(text: str) -> bool:
    """A cue word says something is wrong ("出错", "isn't working")."""
    return _any(text.lower(), GOAL_CUES["Troubleshoot"])


def understand(question: str, vector: np.ndarray, classifier: Classifier) -> Understanding:
    """Classify one question; `vector` is its query embedding."""
    text = question.lower()
    # Strategy asked with nothing Iterable-specific in it is general too.
    strategy = _any(text, STRATEGY) or bool(RAISING_A_RATE.search(text))
    negated = bool(NOT_ITERABLE.search(question)) or (strategy and not _any(text, ITERABLE_THINGS))
    route_scores = classifier.scores(vector, "route")
    said = {goal for goal, cues in GOAL_CUES.items() if _any(text, cues)}
    cued: set[str] = set()
    for target, cues in ROUTE_CUES.items():
        if _any(text, cues):
            cued.add(target)
    for target, (_, name) in COMPETITORS.items():
        if re.search(_ABOUT_COMPETITOR.format(name=name), text.strip()) and not (
                re.search(_PAST_TOOL.format(name=name), text) and _any(text, ITERABLE_THINGS)):
            cued.add(target)
    if _any(text, CRM) and _any(text, CONNECTORS):
        cued.add("/sales-integration")
    for target in cued & set(route_scores):
        route_scores[target] += CUE_BONUS
    if negated:
        route_scores[ITERABLE] = route_scores.get(ITERABLE, 0.0) - CUE_BONUS
        for target in ("/sales-email-marketing", "/sales-push-notification", "/sales-in-app-messaging"):
            if target in route_scores and strategy:
                route_scores[target] += CUE_BONUS / 2
    best = max(route_scores, key=route_scores.get)
    route = None
    margin = 0.0 if best in cued or negated else ROUTE_MARGIN
    # A user describing their own problem ("后端发了应用内消息,用户什么都看不到") asks about
    # their setup, not a channel's strategy: the examples' guess alone does not route it;
    # a cue does (DMARC failing, a named tool), and so does saying it is general.
    # So is an address or endpoint asked for: Iterable's own ("我们在欧区,请求应该发到哪个域名?"),
    # whatever sending domains the examples recall.
    asks = asked_kinds(question)
    held_here = ("Troubleshoot" in said or bool({"url", "endpoint"} & set(asks))) and not (negated or best in cued)
    if best != ITERABLE and route_scores[best] > route_scores.get(ITERABLE, 0.0) + margin and not held_here:
        route = best
    iterable_part = route is None or (not negated and _any(text, ITERABLE_THINGS))

    goal_scores = classifier.scores(vector, "goal")
    named = {GOALS[k]: v for k, v in goal_scores.items() if k in GOALS}
    # A goal the question states with a cue word wins, the more specific first ("…报错,
    # 怎么办?" is a symptom, not a setup question); the examples guess when none is stated.
    goal = next((g for g in GOAL_PRECEDENCE if g in said), None) or (max(named, key=named.get) if named else None)
    if goal == "Troubleshoot" and goal in said and _WHERE_TO_LOOK.search(question):
        # "…still zero users have shown up. where do I look?" asks what to check, not for a menu
        asks = tuple(kind for kind in asks if kind != "menu")

    return Understanding(
        route=route,
        iterable_part=iterable_part,
        goal=goal,
        goal_said=goal in said,
        role=stated_role(text),
        channel=stated_channel(text) or ("ui" if "menu" in asks else None),
        asks=asks,
        yes_no=is_yes_no(question),
        follow_up=is_follow_up(question),
        scores=route_scores,
        route_said=route is not None and (route in cued or bool(NOT_ITERABLE.search(question))),
    )
