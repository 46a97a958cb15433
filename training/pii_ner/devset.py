"""Dev sets in presidio-synth's format and labelling, built from our own values.

    .venv/bin/python -m training.pii_ner.devset --kind generator --out training/pii_ner/data/dev_generator.json
    .venv/bin/python -m benchmarks.pii --dataset training/pii_ner/data/dev_generator.json --out results/dev

Why: the benchmark must never be used to find where the detector fails. These files stand in for it
in error analysis and model choice, scored by ``benchmarks.pii`` with exactly the benchmark's scorer
and label mapping. Both use a seed the training data does not use (different people, values, frames
drawn):

- ``frames``: presidio-evaluator's sentence frames, every slot filled by our renderers and labelled
  the way its ``PresidioSentenceFaker.ENTITY_TYPE_MAPPING`` labels it (one span per slot);
- ``generator``: presidio-evaluator's own generator over identity records we draw from Faker
  (``evaluator_generator.py``): its address and phone formats, its labels.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from training.pii_ner.evaluator_frames import FRAME_SLOTS, SLOT, load_frames
from training.pii_ner.generate import Pools

__all__ = ["DEV_SEED", "EVALUATOR_LABELS", "build", "main"]

DEV_SEED = 7_340_211  # not the training seed (20240611)

# presidio-evaluator 0.2.x PresidioSentenceFaker.ENTITY_TYPE_MAPPING, for the slots the frames use.
EVALUATOR_LABELS: dict[str, str] = {
    "person": "PERSON",
    "name": "PERSON",
    "name_male": "PERSON",
    "name_female": "PERSON",
    "first_name": "PERSON",
    "first_name_male": "PERSON",
    "first_name_female": "PERSON",
    "first_name_nonbinary": "PERSON",
    "last_name": "PERSON",
    "last_name_male": "PERSON",
    "last_name_female": "PERSON",
    "prefix": "TITLE",
    "prefix_male": "TITLE",
    "prefix_female": "TITLE",
    "job": "TITLE",
    "address": "STREET_ADDRESS",
    "street_name": "STREET_ADDRESS",
    "building_number": "STREET_ADDRESS",
    "secondary_address": "STREET_ADDRESS",
    "postcode": "STREET_ADDRESS",
    "zipcode": "ZIP_CODE",
    "city": "GPE",
    "country": "GPE",
    "state": "GPE",
    "state_abbr": "GPE",
    "phone_number": "PHONE_NUMBER",
    "age": "AGE",
    "organization": "ORGANIZATION",
    "credit_card_number": "CREDIT_CARD",
    "iban": "IBAN_CODE",
    "ssn": "US_SSN",
    "ip_address": "IP_ADDRESS",
    "us_driver_license": "US_DRIVER_LICENSE",
    "email": "EMAIL_ADDRESS",
    "url": "DOMAIN_NAME",
    "date_time": "DATE_TIME",
    "date_of_birth": "DATE_TIME",
    "year": "DATE_TIME",
    "day_of_week": "DATE_TIME",
    "nationality": "NRP",
    "nation_plural": "NRP",
    "nation_woman": "NRP",
    "nation_man": "NRP",
}


def _record(frame: str, template_id: int, p: Pools, rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        frame = frame.replace("\\n", "\n")
    text = ""
    masked = ""
    spans: list[dict[str, Any]] = []
    for i, chunk in enumerate(SLOT.split(frame)):
        if i % 2 == 0:
            text += chunk
            masked += chunk
            continue
        slot = chunk.lower()
        value = "".join(piece for piece, _ in FRAME_SLOTS[slot](p))
        label = EVALUATOR_LABELS[slot]
        if label == "PERSON" and rng.random() < 0.05:
            value = value.lower()
        start = len(text)
        end = start + len(value)
        spans.append({"entity_type": label, "entity_value": value, "start_position": start, "end_position": end})
        text += value
        masked += "{{" + label + "}}"
    return {"full_text": text, "masked": masked, "spans": spans, "template_id": template_id, "metadata": None}


def build(n: int, seed: int = DEV_SEED) -> list[dict[str, Any]]:
    """``n`` ``frames`` records in synth_dataset_v2's JSON shape, frames drawn uniformly."""
    p = Pools(seed)
    rng = p.rng
    frames = load_frames()
    out = []
    for _ in range(n):
        idx = rng.randrange(len(frames))
        out.append(_record(frames[idx], idx, p, rng))
    return out


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0" and argv is None:  # Faker's set order: see generate.py
        os.execve(
            sys.executable,
            [sys.executable, "-m", "training.pii_ner.devset", *sys.argv[1:]],
            {**os.environ, "PYTHONHASHSEED": "0"},
        )
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=("frames", "generator"), default="generator")
    ap.add_argument("--out", type=Path, default=None, help="default: data/dev_<kind>.json next to this file")
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=DEV_SEED)
    args = ap.parse_args(argv)
    args.out = args.out or Path(__file__).resolve().parent / "data" / f"dev_{args.kind}.json"
    if args.kind == "generator":
        from training.pii_ner.evaluator_generator import evaluator_records

        records = evaluator_records(args.n, args.seed)
    else:
        records = build(args.n, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"wrote {len(records)} records to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
