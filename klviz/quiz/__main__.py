"""Write an exercise's answer key: ``python -m klviz.quiz key LABEL ANSWER --hint TEXT [--what TEXT] [--sig N]``.

ANSWER is a number or an option letter (a-j). The key goes into ``klviz/quiz/keys.json``
(salted digest, see :mod:`klviz.quiz.answers`); assert ``check(LABEL, value)`` in the chapter's
solution so a change that moves the answer fails the build.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from klviz.quiz.answers import KEYS, load_keys, make_key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m klviz.quiz", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    key = sub.add_parser("key", help="add or replace the answer key of one exercise")
    key.add_argument("label", help="the exercise's :label:, e.g. ex-ent-dice")
    key.add_argument("answer", help="a number, or an option letter a-j")
    key.add_argument("--hint", required=True, help="shown after a wrong answer; must not give it away")
    key.add_argument("--what", default="", help="the quantity asked for, quoted in the check cell")
    key.add_argument("--sig", type=int, default=3, help="significant digits compared (default 3)")
    args = parser.parse_args(argv)
    try:
        answer: float | str = float(args.answer)
    except ValueError:
        answer = args.answer
    try:
        entry = make_key(args.label, answer, hint=args.hint, what=args.what, sig=args.sig)
    except (TypeError, ValueError) as err:
        print(f"klviz.quiz: {err}", file=sys.stderr)
        return 2
    keys = load_keys()
    keys[args.label] = entry
    KEYS.write_text(json.dumps(dict(sorted(keys.items())), indent=1) + "\n", encoding="utf-8")
    print(f"{args.label}: key written to {KEYS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
