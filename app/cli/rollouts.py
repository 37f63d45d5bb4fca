# ruff: noqa: T201 - a command line prints
"""``chargeline rollouts``: firmware rollouts from a shell, straight on the database.

Like ``devices``, these open the platform's database themselves; the worker (``serve`` or
``worker``) carries the rollout out. Every change is audited as ``cli``.

    chargeline rollouts preview --image 7 --policy policy.json
    chargeline rollouts create --name "2.1.0 stable" --image 7 --policy policy.json
    chargeline rollouts start 3
    chargeline rollouts pause 3 --reason "looking at the faults"
    chargeline rollouts resume 3 [--image 8]
    chargeline rollouts abort 3 --reason "bad batch"
    chargeline rollouts show 3
    chargeline rollouts watch 3      # redraws until the rollout ends
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import audit
from app.cli.common import CLI_ACTOR, CliError, add_common
from app.migrate import upgrade
from app.platform import Platform
from common.clock import utcnow
from firmware.rollout.states import FINAL_ROLLOUT_STATES, RolloutError
from firmware.rollout_tables import RolloutRow, RolloutTargetRow, RolloutWaveRow
from firmware.service import admin
from firmware.service.errors import RolloutServiceError

__all__ = ["add_rollout_commands"]

MOVES = ("start", "pause", "resume", "abort", "cancel")


def add_rollout_commands(subparsers: Any) -> None:
    """Add ``rollouts`` and its actions to the ``chargeline`` parser's ``subparsers``."""
    rollouts = subparsers.add_parser("rollouts", help="firmware rollouts")
    sub = rollouts.add_subparsers(dest="rollouts_command", required=True, metavar="ACTION")
    for name, text in (("preview", "the waves a rollout would run"), ("create", "a draft")):
        command = sub.add_parser(name, help=text)
        add_common(command)
        if name == "create":
            command.add_argument("--name", required=True)
        command.add_argument("--image", type=int, required=True, help="firmware image id")
        command.add_argument("--policy", required=True, help="policy JSON, or @FILE / a file")
        command.set_defaults(handler=_preview if name == "preview" else _create)
    for name in MOVES:
        command = sub.add_parser(name, help=f"{name} a rollout")
        add_common(command)
        command.add_argument("rollout_id", type=int)
        command.add_argument("--reason", default="")
        if name == "resume":
            command.add_argument("--image", type=int, help="a replacement image id")
        command.set_defaults(handler=_move, move=name)
    show = sub.add_parser("show", help="a rollout's progress per wave")
    add_common(show)
    show.add_argument("rollout_id", type=int)
    show.add_argument("--json", action="store_true", help="as JSON")
    show.set_defaults(handler=_show)
    watch = sub.add_parser("watch", help="live progress, until the rollout ends")
    add_common(watch)
    watch.add_argument("rollout_id", type=int)
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between redraws")
    watch.add_argument("--timeout", type=float, default=None, help="give up after SECONDS")
    watch.set_defaults(handler=_watch)


def _policy(text: str) -> object:
    source = text[1:] if text.startswith("@") else text
    path = Path(source)
    if text.startswith("@") or (not source.lstrip().startswith("{") and path.exists()):
        try:
            source = path.read_text()
        except OSError as exc:
            raise CliError(f"cannot read the policy: {exc}") from None
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise CliError(f"the policy is not JSON: {exc}") from None


def _domain(action: Any) -> Any:
    try:
        return action()
    except (RolloutServiceError, RolloutError) as exc:
        raise CliError(str(exc)) from None


def _preview(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    policy = _policy(args.policy)
    with Session(platform.engine) as session:
        plan = _domain(lambda: admin.plan_rollout(session, image_id=args.image, policy=policy))
        preview = admin.plan_to_preview(plan)
    print(f"family {preview['family']}, image {preview['image_id']} ({preview['version']})")
    print(f"targets {preview['targets']}, already on it {preview['skipped']}")
    for wave in preview["waves"]:
        print(f"  wave {wave['index']}: {wave['size']} station(s)")
    if preview["downgrades"]:
        print(f"{preview['downgrades']} station(s) run a newer version (needs allow_downgrade)")
    return 0


def _create(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    policy = _policy(args.policy)
    with Session(platform.engine) as session:
        row = _domain(
            lambda: admin.create_rollout(
                session,
                name=args.name,
                image_id=args.image,
                policy=policy,
                created_by=CLI_ACTOR.name,
                now=utcnow(),
            )
        )
        session.flush()
        audit.record(
            session,
            CLI_ACTOR,
            "rollout.create",
            object_type="rollout",
            object_id=str(row.id),
            image_id=row.image_id,
            targets=row.target_count,
        )
        session.commit()
        print(f"rollout {row.id}: {row.target_count} station(s) in {row.wave_count} wave(s)")
        print(f"start it with: chargeline rollouts start {row.id}")
    return 0


def _move(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    image = getattr(args, "image", None)
    with Session(platform.engine) as session:
        row = _domain(
            lambda: admin.move_rollout(
                session,
                args.rollout_id,
                args.move,
                now=utcnow(),
                reason=args.reason,
                image_id=image,
            )
        )
        detail: dict[str, Any] = {"state": row.state}
        if args.reason:
            detail["reason"] = args.reason
        if image is not None:
            detail["image_id"] = image
        audit.record(
            session,
            CLI_ACTOR,
            f"rollout.{args.move}",
            object_type="rollout",
            object_id=str(args.rollout_id),
            **detail,
        )
        session.commit()
        print(f"rollout {args.rollout_id} is {row.state}")
    return 0


def progress(platform: Platform, rollout_id: int) -> dict[str, Any]:
    """A rollout's state and its counts per wave, as ``show`` and ``watch`` print them."""
    with Session(platform.engine) as session:
        row = _domain(lambda: admin.get_rollout(session, rollout_id))
        counts: dict[int, dict[str, int]] = {}
        for wave, state, n in session.exec(
            select(RolloutTargetRow.wave, RolloutTargetRow.state, func.count())
            .where(col(RolloutTargetRow.rollout_id) == rollout_id)
            .group_by(col(RolloutTargetRow.wave), col(RolloutTargetRow.state))
        ):
            counts.setdefault(wave, {})[state] = int(n)
        waves = [
            {
                "index": w.index,
                "size": w.size,
                "verdict": w.verdict,
                "counts": counts.get(w.index, {}),
            }
            for w in session.exec(
                select(RolloutWaveRow)
                .where(col(RolloutWaveRow.rollout_id) == rollout_id)
                .order_by(col(RolloutWaveRow.index))
            )
        ]
        assert isinstance(row, RolloutRow)
        return {
            "id": row.id,
            "name": row.name,
            "state": row.state,
            "outcome": row.outcome,
            "reason": row.reason,
            "wave_index": row.wave_index,
            "waves": waves,
        }


def render(view: dict[str, Any]) -> str:
    lines = [f"rollout {view['id']} {view['name']!r}: {view['state']}"]
    if view["outcome"]:
        lines[0] += f" ({view['outcome']})"
    if view["reason"]:
        lines.append(f"  reason: {view['reason']}")
    for wave in view["waves"]:
        done = sum(n for s, n in wave["counts"].items() if s in ("succeeded", "failed", "skipped"))
        total = max(wave["size"], sum(wave["counts"].values()))
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "." * (width - filled)
        marker = ">" if wave["index"] == view["wave_index"] else " "
        states = ", ".join(f"{s} {n}" for s, n in sorted(wave["counts"].items()))
        lines.append(f" {marker}wave {wave['index']} [{bar}] {done}/{total}  {states}")
    return "\n".join(lines)


def _show(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    view = progress(platform, args.rollout_id)
    print(json.dumps(view, indent=2) if args.json else render(view))
    return 0


def _watch(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    redraw = sys.stdout.isatty()
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while True:
        view = progress(platform, args.rollout_id)
        text = render(view)
        print(("\x1b[H\x1b[2J" if redraw else "") + text, flush=True)
        if view["state"] in FINAL_ROLLOUT_STATES:
            return 0 if view["outcome"] == "successful" else 1
        if deadline is not None and time.monotonic() > deadline:
            raise CliError(f"rollout {args.rollout_id} is still {view['state']}")
        if not redraw:
            print("--", flush=True)
        time.sleep(args.interval)
