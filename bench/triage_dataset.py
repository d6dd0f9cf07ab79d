"""Build the triage data set from the hand-written messages in bench/triage_data/*.txt.

    .venv/bin/python bench/triage_dataset.py

Each hand-written message (a "core") is labelled by hand. About a quarter of the cores,
chosen by a hash of their text, are held out: all their variants go to the test split
(bench/data/triage_test.jsonl), which neither the rules nor the model ever read. The
other cores go to service/triage/data/train.jsonl. Each core yields a few variants the
way people really type: place and amount slots filled, SMS abbreviations, dropped
accents and punctuation, typos, Khmer spelling variants, greetings and sign-offs.
The output is deterministic (fixed seed). See docs/triage.md.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "bench" / "triage_data"
TRAIN = ROOT / "service" / "triage" / "data" / "train.jsonl"
TEST = ROOT / "bench" / "data" / "triage_test.jsonl"
CATS = {"sq": "service_quality", "sd": "stigma_discrimination", "fh": "financial_hardship",
        "hr": "human_rights_violation", "ot": "other"}
URG = {"u": "urgent", "h": "high", "n": "normal"}
TRAIN_VARIANTS, TEST_VARIANTS = 4, 3

SLOTS = {
    "en": {"hc": ["Kien Svay HC", "the health centre", "Chbar Ampov health center", "Takhmao RH", "the hc",
                  "Mongkol Borey hospital", "Sen Sok HC", "the clinic in Battambang"],
           "place": ["Phnom Penh", "Siem Reap", "Battambang", "Kampong Cham", "pp", "Sihanoukville"]},
    "km": {"hc": ["មណ្ឌលសុខភាពកៀនស្វាយ", "មណ្ឌលសុខភាព", "មន្ទីរពេទ្យបង្អែកតាខ្មៅ", "មណ្ឌលសុខភាពច្បារអំពៅ",
                  "មន្ទីរពេទ្យមង្គលបុរី", "HC សែនសុខ", "គ្លីនិកបាត់ដំបង"],
           "place": ["ភ្នំពេញ", "សៀមរាប", "បាត់ដំបង", "កំពង់ចាម", "ខេត្តព្រះសីហនុ"]},
    "km-Latn": {"hc": ["mondol kean svay", "mondol sokhapheap", "HC chbar ampov", "mondol pet takhmao", "hc sen sok",
                       "mondol pet mongkol borey", "clinic battambang"],
                "place": ["phnom penh", "siem reap", "btb", "kampong cham", "pp", "kompong som"]},
    "pt": {"hc": ["centro de saude de Ressano Garcia", "hospital de Xai-Xai", "centro de saude", "HC de Moamba",
                  "hospital rural de Chokwe", "posto de saude do bairro"],
           "place": ["Maputo", "Xai-Xai", "Gaza", "Inhambane", "Joanesburgo", "Chokwe"]},
}

EN_SMS = [(r"\byou\b", "u"), (r"\bare\b", "r"), (r"\bplease\b", "pls"), (r"\bplease\b", "plz"), (r"\bto\b", "2"),
          (r"\bfor\b", "4"), (r"\btoday\b", "2day"), (r"\btonight\b", "2nite"), (r"\bbecause\b", "coz"),
          (r"\bdoctor\b", "dr"), (r"\bhospital\b", "hosp"), (r"\bhealth cent(er|re)\b", "hc"),
          (r"\bmedicine\b", "meds"), (r"\bthanks\b", "thx"), (r"\bpeople\b", "ppl"), (r"\bdon'?t\b", "dont"),
          (r"\bI am\b", "im"), (r"\bwith\b", "w"), (r"\band\b", "n"), (r"\bthe\b", "da"), (r"\bwhat\b", "wat")]
PT_SMS = [(r"\bvoc[eê]\b", "vc"), (r"\bque\b", "q"), (r"\bnão\b", "n"), (r"\bnao\b", "n"), (r"\bporque\b", "pq"),
          (r"\bmuito\b", "mto"), (r"\bhoje\b", "hj"), (r"\bpara\b", "pra"), (r"\bestá\b", "ta"), (r"\bestou\b", "to"),
          (r"\bobrigad[oa]\b", "obg"), (r"\bagora\b", "agr"), (r"\bbeleza\b", "blz"), (r"\btambém\b", "tbm"),
          (r"\bpor favor\b", "pf")]
KML_VARIANTS = [("knhom", ["khnhom", "knyom", "khnom", "nhom", "knhum"]), ("ot ", ["ort ", "od "]),
                ("mean", ["mien", "mn"]), ("thnam", ["tnam", "thnum"]), ("nas", ["nah", "nas na"]),
                ("hz", ["hx", "hai", "heuy"]), ("phong", ["pong", "phg"]), ("eylov", ["ey lov", "elov", "ilov"]),
                ("tver", ["thver", "thveu"]), ("pteah", ["phteah", "pteas"]), ("yerng", ["yeung", "yg"]),
                ("mok", ["mork"]), ("nov", ["nv", "nouv"]), ("tov", ["tv", "tow"]), ("chea", ["jea"]),
                ("jea", ["chea"]), ("juy", ["chuoy", "jouy"]), ("luy", ["loy", "lui"]), ("chheu", ["chhue", "chher"]),
                ("tae", ["te"]), ("ke ", ["kee "])]
KM_PARTICLES = ["បង ", "ចាស ", "បាទ ", "សួស្តី ", "", "", ""]
KM_TAILS = [" ទេបង", " ណាបង", " ជួយផង", "", "", "", " អរគុណ"]
EN_PREFIX = ["hi ", "hello, ", "pls ", "sorry ", "", "", "", "bong ", "Hi. "]
EN_SUFFIX = [" pls", " thank u", "!!", "...", "", "", "", " ?", " :("]
PT_PREFIX = ["ola ", "boa tarde, ", "bom dia ", "", "", "", "mano "]
PT_SUFFIX = [" pf", " obrigado", "!!", "...", "", "", ""]
KML_PREFIX = ["bong ", "sousdey bong ", "hi bong ", "", "", "", "oun "]
KML_SUFFIX = [" bong", " te bong", " na bong", "!!", "", "", "", " arkun"]


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w = list(words[i])
    j = rng.randrange(1, len(w) - 1)
    if rng.random() < 0.5:
        w[j], w[j + 1] = w[j + 1], w[j]
    else:
        del w[j]
    words[i] = "".join(w)
    return " ".join(words)


def _strip_accents(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def variant(lang: str, text: str, rng: random.Random, k: int) -> str:
    slots = SLOTS[lang]
    text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(slots[m.group(1)]), text)
    if k == 0:
        return text  # the message as written
    if lang == "en":
        for pattern, repl in EN_SMS:
            if rng.random() < 0.4:
                text = re.sub(pattern, repl, text, flags=re.I)
        if rng.random() < 0.5:
            text = text.lower()
        if rng.random() < 0.3:
            text = re.sub(r"[,.]", "", text)
        if rng.random() < 0.4:
            text = _typo(text, rng)
        text = rng.choice(EN_PREFIX) + text + rng.choice(EN_SUFFIX)
    elif lang == "pt":
        for pattern, repl in PT_SMS:
            if rng.random() < 0.4:
                text = re.sub(pattern, repl, text, flags=re.I)
        if rng.random() < 0.5:
            text = _strip_accents(text)
        if rng.random() < 0.5:
            text = text.lower()
        if rng.random() < 0.3:
            text = _typo(text, rng)
        text = rng.choice(PT_PREFIX) + text + rng.choice(PT_SUFFIX)
    elif lang == "km-Latn":
        for word, options in KML_VARIANTS:
            if word in text and rng.random() < 0.5:
                text = text.replace(word, rng.choice(options))
        if rng.random() < 0.3:
            text = text.replace(",", "").replace(".", "")
        if rng.random() < 0.2:
            text = text.upper() if rng.random() < 0.3 else text.capitalize()
        if rng.random() < 0.3:
            text = _typo(text, rng)
        text = rng.choice(KML_PREFIX) + text + rng.choice(KML_SUFFIX)
    else:  # km
        if rng.random() < 0.4:
            text = text.replace(" ", "")  # many people type Khmer with no spaces at all
        elif rng.random() < 0.3:
            text = text.replace(" ", "\u200b")  # or with zero-width spaces from a keyboard
        if rng.random() < 0.4:
            text = text.translate(str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩"))
        if rng.random() < 0.3:
            text = text.replace("ខ្ញុំ", rng.choice(["ញុំ", "ខ្ញុំុ", "ខ្ញំ"]))
        if rng.random() < 0.2:
            text = text.replace("ប៉ូលីស", "police").replace("ពេទ្យ", rng.choice(["ពេទ្យ", "dr "]))
        text = rng.choice(KM_PARTICLES) + text + rng.choice(KM_TAILS)
    return re.sub(r"\s{2,}", " ", text).strip()


def read_cores(lang: str) -> list[dict]:
    cores = []
    for line in (SRC / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cats, urgency, text = line.split("|", 2)
        primary, _, secondary = cats.partition("+")
        cores.append({"category": CATS[primary], "secondary": CATS[secondary] if secondary else None,
                      "urgency": URG[urgency], "text": text.strip()})
    return cores


def held_out(lang: str, text: str) -> bool:
    return int(hashlib.sha256(f"{lang}|{text}".encode()).hexdigest(), 16) % 4 == 0


def build() -> tuple[list[dict], list[dict]]:
    rng = random.Random(20261123)
    train, test = [], []
    for lang in ("en", "km", "km-Latn", "pt"):
        for n, core in enumerate(read_cores(lang)):
            is_test = held_out(lang, core["text"])
            seen: set[str] = set()
            for k in range(TEST_VARIANTS if is_test else TRAIN_VARIANTS):
                text = variant(lang, core["text"], rng, k)
                if text in seen:
                    continue
                seen.add(text)
                row = {"id": f"{lang}-{n:03d}-{k}", "language": lang, "text": text, "category": core["category"],
                       "secondary": core["secondary"], "urgency": core["urgency"]}
                (test if is_test else train).append(row)
    return train, test


def main() -> None:
    train, test = build()
    for path, rows in ((TRAIN, train), (TEST, test)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(rows)} examples")


if __name__ == "__main__":
    main()
