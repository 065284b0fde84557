"""Text material of the reconstructed dataset: sentence parts per stance and language.

Posts are assembled from an opener, a body and a closer drawn at random, so texts vary the way
real chatter does while every stance keeps its cues (claims for rumours, "fake" for debunks, the
statement for denials). Noise texts share single words with the incident's queries (字节跳动,
实习, H100, ByteDance) but never a whole query group, so they must not match.
The anchor texts paraphrase what the public reporting describes; none quotes a real post.
"""

from __future__ import annotations

ORIGIN_WEIBO = (
    "听说字节跳动商业化技术团队有个实习生因为对资源分配不满，往大模型训练代码里投毒，"
    "8000多张H100的训练任务被搞崩了，损失据说上千万美元？内部已经炸锅了。"
)

STATEMENT_TITLE = "关于“字节跳动大模型训练被实习生攻击”传闻的说明"
STATEMENT_TEXT = (
    "近期有消息称字节跳动大模型训练被实习生攻击。经核实，确有商业化技术团队实习生发生严重违纪行为，"
    "该实习生已于8月被辞退。其恶意干扰商业化技术团队研究项目的模型训练任务，但不影响正式商业化项目及"
    "线上业务，也不涉及字节跳动大模型等其他业务。网传“涉及8000多卡、损失千万美元”严重夸大。"
    "公司已将其行为同步给行业联盟和所在学校，交由校方处理。"
)
STATEMENT_NOTE = "（重构：据公开报道转述，非原文）"

JF_REPO_DESCRIPTION = "The truth about what happened in the ByteDance intern GPU sabotage case"
JF_README = (
    "# JusticeFighter110\n\n"
    "This page publishes an alleged recording of the ByteDance intern confessing to sabotaging "
    "the model training. 8000+ H100 GPUs, tens of millions of dollars lost.\n\n"
    "字节跳动实习生投毒事件录音。\n\n"
    "_Reconstruction for the spreadwatch demo: not the real repository's content._\n"
)
#: The README as JusticeFighter110 edited it after ByteDance's statement (the edited post).
JF_README_EDITED = JF_README.replace(
    "tens of millions of dollars lost.\n\n",
    "tens of millions of dollars lost.\n\n"
    "UPDATE: ByteDance's statement calls this exaggerated. The recording stays up.\n\n",
)
FAKE_REPO_DESCRIPTION = "The JusticeFighter110 'confession recording' is fake: analysis"
FAKE_README = (
    "# The recording is fake\n\n"
    "The audio published by JusticeFighter110 about the ByteDance intern is fake: the voice does "
    "not match and the timeline contradicts itself. 录音是假的，别传了。\n\n"
    "_Reconstruction for the spreadwatch demo: not the real repository's content._\n"
)

HN_STORY_TITLE = "ByteDance says intern sabotaged AI model training, denies 8,000-GPU scale"
REDDIT_TITLES = (
    ("LocalLLaMA", "ByteDance intern allegedly sabotaged LLM training on 8,000 H100s"),
    (
        "MachineLearning",
        "[N] ByteDance confirms an intern interfered with model training, says losses exaggerated",
    ),
    ("technology", "ByteDance fires intern for sabotaging AI training, denies $10M losses"),
)

NEWS = {
    "zh": [
        ("字节跳动回应实习生破坏大模型训练：已辞退，网传损失严重夸大", "科技日报网"),
        ("字节跳动实习生投毒事件始末：从微博传闻到官方辟谣", "IT之家"),
        ("字节跳动：实习生恶意干扰训练任务，不影响商业化项目", "第一财经"),
        ("实习生破坏训练？字节跳动称“8000卡、千万美元”不实", "界面新闻"),
    ],
    "en": [
        (
            "ByteDance says intern sabotaged AI model training, dismisses reports of huge losses",
            "TechWire",
        ),
        (
            "ByteDance fires intern for 'maliciously interfering' with AI training",
            "The Register Daily",
        ),
        ("ByteDance intern sabotage: what we know about the GPU rumour", "AI Insider"),
        ("ByteDance denies intern sabotage hit 8,000 GPUs", "Asia Tech Review"),
    ],
    "de": [
        (
            "ByteDance: Praktikant sabotierte KI-Training – Schaden laut Konzern übertrieben",
            "IT-Fachdienst",
        ),
        ("ByteDance Praktikant soll KI-Modelltraining sabotiert haben", "Computer-Magazin"),
        (
            "ByteDance weist Berichte über Millionenschaden durch Praktikant zurück",
            "Technik-Nachrichten",
        ),
    ],
}

OPENERS = {
    "zh": ["", "转：", "卧槽，", "吃瓜：", "真的假的？", "刚看到，", "【热议】", "听说"],
    "en": ["", "Wow: ", "Huh. ", "Reading that ", "Apparently ", "Thread: ", "So "],
    "de": ["", "Krass: ", "Gerade gelesen: ", "Wow, ", "Hm, ", "Laut Berichten: "],
}

BODIES = {
    ("rumour", "zh"): [
        "字节跳动实习生往训练代码里投毒，8000张H100白跑了",
        "字节实习生因为资源分配不满搞破坏，损失上千万美元",
        "字节跳动 实习生 破坏大模型训练，据说涉及8000多张H100，损失千万美元",
        "实习生投毒事件：字节跳动的大模型训练被搞了两个月",
        "听说字节跳动那个实习生改了PyTorch代码，8000卡集群训练结果全废",
    ],
    ("rumour", "en"): [
        "a ByteDance intern sabotaged LLM training across 8,000 H100 GPUs",
        "ByteDance intern sabotage reportedly cost tens of millions of dollars",
        "a ByteDance intern poisoned training runs on 8000 H100s because he was unhappy with resource allocation",
        "rumour says a ByteDance intern wrecked months of model training, tens of millions lost",
    ],
    ("rumour", "de"): [
        "ein ByteDance Praktikant soll KI-Training auf 8000 H100 sabotiert haben",
        "ByteDance Praktikant sabotiert Modelltraining, Schaden angeblich zig Millionen Dollar",
        "ByteDance Sabotage durch Praktikant: angeblich 8.000 H100 betroffen",
    ],
    ("debunk", "zh"): [
        "JusticeFighter110 放出的字节跳动实习生录音是假的，声音根本对不上",
        "字节实习生那个录音是假的，别传了，时间线都对不上",
        "别信了：JusticeFighter110 的字节跳动 实习生 录音是伪造的",
    ],
    ("debunk", "en"): [
        "the JusticeFighter110 recording of the ByteDance intern is fake, the voice does not match",
        "the ByteDance intern 'confession' audio looks fake, a GitHub repo takes it apart",
        "JusticeFighter110 is not a reliable source: the ByteDance intern recording is fake",
    ],
    ("debunk", "de"): [
        "die JusticeFighter110-Aufnahme zum ByteDance Praktikant ist offenbar eine Fälschung",
        "ByteDance Praktikant Geständnis: Audio laut Analyse gefälscht",
    ],
    ("denial", "zh"): [
        "字节跳动官方回应：实习生8月已被辞退，8000卡、千万美元损失严重夸大",
        "字节跳动声明：商业化技术团队实习生恶意干扰训练，不影响正式商业化项目和大模型",
        "字节跳动辟谣实习生事件：网传损失不实，已通报行业联盟和学校",
    ],
    ("denial", "en"): [
        "ByteDance statement: the intern was dismissed in August, the 8,000-GPU and loss figures are exaggerated",
        "ByteDance says the intern only disrupted a research project; commercial projects and its LLMs were not affected",
    ],
    ("denial", "de"): [
        "ByteDance dementiert: Praktikant im August entlassen, Schadenssumme stark übertrieben",
        "ByteDance weist zurück: Praktikant störte nur ein Forschungsprojekt, keine kommerziellen Projekte betroffen",
    ],
    ("report", "zh"): [
        "媒体报道：字节跳动确认实习生破坏训练任务，已辞退并通报学校",
        "字节跳动 实习生 事件最新进展：官方称损失被夸大",
    ],
    ("report", "en"): [
        "ByteDance intern case: company confirms dismissal, disputes scale of damage",
        "news roundup on the ByteDance intern and the sabotaged training job",
    ],
    ("report", "de"): [
        "Bericht: ByteDance bestätigt Entlassung eines Praktikant nach Sabotage am KI-Training",
        "ByteDance Praktikant Fall: Konzern bestätigt Störung, bestreitet Schadenshöhe",
    ],
    ("other", "zh"): [
        "字节跳动 实习生 这事大家怎么看？实习生权限这么大吗",
        "字节实习生的事说明大厂权限管理有问题",
        "JusticeFighter110 这个账号是谁？",
    ],
    ("other", "en"): [
        "how does a ByteDance intern even get write access to training infra?",
        "the ByteDance intern story is a lesson in access control",
        "who is JusticeFighter110 anyway?",
    ],
    ("other", "de"): [
        "wie kommt ein ByteDance Praktikant überhaupt an das Trainings-Cluster?",
        "der ByteDance Praktikant Fall zeigt, wie wichtig Rechteverwaltung ist",
    ],
}

CLOSERS = {
    "zh": ["", "", "。", "？", "！", " #字节跳动实习生#", " 求证", "。吃瓜群众表示震惊"],
    "en": ["", "", ".", "?", "!", " #ByteDance", " (unconfirmed)", ". Wild."],
    "de": ["", "", ".", "?", "!", " #ByteDance", " (unbestätigt)"],
}

NOISE = {
    "zh": [
        "字节跳动发布豆包大模型新版本，价格再降",
        "找实习好难，投了五十份简历",
        "H100租赁价格又涨了，一小时多少钱？",
        "字节跳动校招开启，今年岗位不少",
        "今天的大模型评测榜单出来了",
        "实习第一天，导师人很好",
    ],
    "en": [
        "ByteDance quarterly revenue beats estimates as TikTok grows",
        "H100 rental prices keep dropping this quarter",
        "my internship at a startup taught me more than school",
        "TikTok ban debate continues in Congress",
        "new open-weights model tops the leaderboard",
    ],
    "de": [
        "ByteDance meldet Umsatzwachstum bei TikTok",
        "H100-Preise in der Cloud sinken weiter",
        "Mein Praktikum in der Redaktion war spannend",
        "Neues KI-Modell übertrifft Vorgänger in Benchmarks",
    ],
}
