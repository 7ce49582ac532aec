"""Report text: era-P prose with its figures, and the narrative sections of table-era reports.

Each prose function returns paragraphs and the facts they state, built from the
same numbers, so that the text and the answer key agree. Distractor figures
(培训人次, 手册册数, 清理文件数, 会议次数) are printed but are not facts.
"""
from __future__ import annotations

import random

from warehouse.facts import Fact

from demo_portal.agencies import Agency
from demo_portal.figures import PROSE_SUBTYPES, Figures
from demo_portal.tables import fact

DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """0..99 in Chinese numerals (十二, 二十, 三十五)."""
    if n < 10:
        return DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")


def say(n: int, rng: random.Random) -> str:
    """Small counts are sometimes written in Chinese numerals."""
    return chinese_number(n) if 0 < n < 30 and rng.random() < 0.25 else str(n)


Section = tuple[str, list[str]]


def overview(agency: Agency, name: str, year: int, rng: random.Random) -> Section:
    trainings = rng.randint(1, 6)
    trainees = rng.randint(20, 400)
    leaflets = rng.randint(1, 50) * 100
    return ("一、概述", [
        f"{year}年，{name}认真贯彻落实《中华人民共和国政府信息公开条例》，"
        f"把政府信息公开作为推进依法行政的重要抓手，进一步健全工作机制，明确分管领导和专职工作人员，"
        f"确保政府信息公开工作有序开展。",
        f"{agency.short}全年组织政府信息公开业务培训{trainings}次，培训工作人员{trainees}人次；"
        f"印制并发放政府信息公开指南和便民手册{leaflets}余册，在办事大厅设置查阅点，方便群众查阅。",
        f"结合规范性文件清理工作，{agency.short}共清理规范性文件{rng.randint(10, 90)}件，"
        f"其中废止{rng.randint(1, 9)}件、修改{rng.randint(1, 9)}件，清理结果已向社会公布。",
    ])


def proactive_section(agency: Agency, year: int, figs: Figures, rng: random.Random) -> tuple[Section, list[Fact]]:
    p = figs.prose
    parts = []
    facts = [fact("proactive", "all_items", "count", p["all_items"], "主动公开政府信息")]
    if p["rules"]:
        parts.append(f"政府规章{p['rules']}件")
        facts.append(fact("proactive", "rules", "count", p["rules"], "政府规章"))
    parts.append(f"规范性文件{p['normative_documents']}件")
    facts.append(fact("proactive", "normative_documents", "count", p["normative_documents"], "规范性文件"))
    parts += [f"{name}{p[name]}条" for name in PROSE_SUBTYPES if p[name]]
    text = (f"{year}年，{agency.short}主动公开政府信息{p['all_items']}条，其中" + "、".join(parts) + "。"
            f"截至{year}年底，累计主动公开政府信息{p['published_total']}条。")
    facts.append(fact("proactive", "all_items", "published_total", p["published_total"], "累计主动公开政府信息"))
    channels = ("通过政府门户网站发布信息为主要渠道，同时利用政务微博、微信公众号、政务公开栏、"
                "新闻发布会等多种形式及时公开政府信息。")
    return ("二、主动公开政府信息情况", [text, channels]), facts


def requests_section(agency: Agency, year: int, figs: Figures, rng: random.Random) -> tuple[Section, list[Fact]]:
    p = figs.prose
    title = "三、依申请公开政府信息情况"
    if p["received_new"] == 0:
        phrase = rng.choice(["未收到政府信息公开申请", "没有收到公民、法人或其他组织提出的政府信息公开申请",
                             "未受理依申请公开政府信息"])
        return (title, [f"{year}年，{agency.short}{phrase}。"]), [
            fact("requests", "received_new", "total", 0, "收到政府信息公开申请")]
    channels = "、".join(f"{k}{say(p[k], rng)}件" for k in ("当面申请", "网络申请", "信函申请") if p[k])
    text = (f"{year}年，{agency.short}共收到政府信息公开申请{say(p['received_new'], rng)}件，其中{channels}。"
            f"已全部办结，办结{p['handled_total']}件。其中，同意公开{p['granted']}件、"
            f"部分公开{p['partially_granted']}件、不予公开{p['withheld']}件，"
            f"不属于本机关公开范围{p['unavailable_not_held_other_body']}件，"
            f"申请信息不存在{p['unavailable_nonexistent']}件。")
    facts = [fact("requests", "received_new", "total", p["received_new"], "收到政府信息公开申请"),
             fact("requests", "handled_total", "total", p["handled_total"], "办结"),
             fact("requests", "granted", "total", p["granted"], "同意公开"),
             fact("requests", "partially_granted", "total", p["partially_granted"], "部分公开"),
             fact("requests", "withheld", "total", p["withheld"], "不予公开"),
             fact("requests", "unavailable_not_held_other_body", "total", p["unavailable_not_held_other_body"],
                  "不属于本机关公开范围"),
             fact("requests", "unavailable_nonexistent", "total", p["unavailable_nonexistent"], "申请信息不存在")]
    return (title, [text]), facts


def fees_section(agency: Agency) -> Section:
    return ("四、收费及减免情况", [f"{agency.short}在办理依申请公开过程中，未收取任何费用，不涉及减免情况。"])


def reviews_section(agency: Agency, year: int, figs: Figures, rng: random.Random) -> tuple[Section, list[Fact]]:
    p = figs.prose
    title = "五、因政府信息公开申请行政复议、提起行政诉讼的情况"
    facts = [fact("reviews", "reconsideration", "total", p["reconsideration"], "行政复议"),
             fact("reviews", "litigation", "total", p["litigation"], "行政诉讼")]
    if p["reconsideration"] == 0 and p["litigation"] == 0:
        text = f"{year}年，{agency.short}没有发生因政府信息公开申请提起行政复议和行政诉讼的情况。"
    else:
        text = (f"{year}年，因政府信息公开申请提起行政复议{say(p['reconsideration'], rng)}件，"
                f"提起行政诉讼{say(p['litigation'], rng)}件。")
    return (title, [text]), facts


def problems_section(agency: Agency, rng: random.Random, number: str = "六") -> Section:
    return (f"{number}、存在的主要问题及改进措施", [
        f"{agency.short}在政府信息公开工作中仍存在公开内容不够全面、更新不够及时、解读回应针对性不强等问题。",
        f"下一步，{agency.short}将进一步加强队伍建设，计划每年开展业务培训不少于{rng.randint(2, 4)}次，"
        f"持续提升政府信息公开工作质量。",
    ])


def prose_report(agency: Agency, name: str, year: int, figs: Figures,
                 rng: random.Random) -> tuple[list[Section], list[Fact]]:
    sections: list[Section] = [overview(agency, name, year, rng)]
    facts: list[Fact] = []
    for build in (proactive_section, requests_section):
        section, new = build(agency, year, figs, rng)
        sections.append(section)
        facts += new
    sections.append(fees_section(agency))
    section, new = reviews_section(agency, year, figs, rng)
    sections.append(section)
    facts += new
    sections.append(problems_section(agency, rng))
    return sections, facts


# ---------------------------------------------------------------- table eras

def table_era_intro(agency: Agency, name: str, year: int, rng: random.Random) -> list[str]:
    return [
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制。全文包括总体情况、"
        f"主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、"
        f"存在的主要问题及改进情况、其他需要报告的事项。本报告所列数据的统计期限自{year}年1月1日起至"
        f"{year}年12月31日止。",
    ]


def overall_section(agency: Agency, name: str, year: int, rng: random.Random) -> Section:
    return ("一、总体情况", [
        f"{year}年，{name}坚持以公开为常态、不公开为例外，围绕中心工作推进决策、执行、管理、服务、结果公开。",
        f"（一）主动公开。{agency.short}及时更新政府信息公开专栏，全年召开政务公开工作专题会议{rng.randint(1, 5)}次，"
        f"组织业务培训{rng.randint(1, 6)}期、参训{rng.randint(30, 300)}人次。",
        "（二）依申请公开。严格按照法定程序和时限办理政府信息公开申请，做到依法答复、规范答复。",
        "（三）政府信息管理。落实政府信息公开属性源头认定机制，做好公开前保密审查。",
        "（四）平台建设。持续优化门户网站信息公开专栏，规范栏目设置，提升检索查询功能。",
        "（五）监督保障。将政务公开纳入年度绩效考核，定期开展自查和通报。",
    ])


def closing_sections(agency: Agency, year: int, era: str, rng: random.Random) -> list[Section]:
    fee_note = ("本年度未收取信息处理费。" if era == "table_2021"
                else "本年度无其他需要报告的事项。")
    return [("五、存在的主要问题及改进情况", [
        f"{agency.short}的政府信息公开工作与群众期待相比仍有差距，主要是政策解读形式较为单一、基层公开标准化规范化仍需加强。",
        "下一步将健全解读回应机制，推进基层政务公开标准化规范化建设。",
    ]), ("六、其他需要报告的事项", [fee_note])]
