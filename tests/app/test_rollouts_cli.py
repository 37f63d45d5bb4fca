"""``chargeline rollouts`` on the platform's database: preview, create, moves, show, watch."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.cli.parser import main
from app.platform import Platform
from tests.e2e.firmware_fleet import add_family, add_field_stations, add_image, policy
from tests.e2e.processes import CLI


def run(platform: Platform, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    url = platform.settings.resolved_database_url
    code = main(
        ["rollouts", *argv, "--database-url", url, "--data-dir", str(platform.settings.data_dir)]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_admin_runs_a_rollout_from_the_shell(
    platform: Platform, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    family_id = add_family(platform, "cli")
    add_field_stations(platform, "cli", ["CLI-1", "CLI-2", "CLI-3"])
    image_id = add_image(platform, family_id, "2.0.0")
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy("cli", sizes=(1, 2))))

    code, out = run(
        platform, capsys, "preview", "--image", str(image_id), "--policy", str(policy_file)
    )
    assert code == 0, out
    assert "targets 3" in out and "wave 0: 1 station(s)" in out and "wave 1: 2 station(s)" in out
    code, out = run(
        platform,
        capsys,
        "create",
        "--name",
        "cli",
        "--image",
        str(image_id),
        "--policy",
        f"@{policy_file}",
    )
    assert code == 0 and "rollout 1: 3 station(s) in 2 wave(s)" in out, out
    code, out = run(platform, capsys, "pause", "1")
    assert code == 2 and "cannot pause a rollout that is draft" in out
    for action, state in (("start", "running"), ("pause", "paused"), ("resume", "running")):
        code, out = run(platform, capsys, action, "1", "--reason", f"{action} by hand")
        assert code == 0 and f"rollout 1 is {state}" in out, out
    code, out = run(platform, capsys, "show", "1", "--json")
    view, _ = json.JSONDecoder().raw_decode(out)
    assert view["state"] == "running" and [w["size"] for w in view["waves"]] == [1, 2]
    assert view["waves"][0]["counts"] == {"waiting": 1}
    code, out = run(platform, capsys, "abort", "1", "--reason", "enough")
    assert code == 0 and "rollout 1 is aborted" in out
    # watch redraws until the rollout has ended; an aborted one ends it with status 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}
    watched = subprocess.run(
        [
            *CLI,
            "rollouts",
            "watch",
            "1",
            "--interval",
            "0.1",
            "--timeout",
            "30",
            "--database-url",
            platform.settings.resolved_database_url,
            "--data-dir",
            str(platform.settings.data_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert watched.returncode == 1, watched.stderr
    assert "rollout 1 'cli': aborted" in watched.stdout and "reason: enough" in watched.stdout
    assert "wave 0 [" in watched.stdout
    with Session(platform.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry)) if e.actor == "cli"]
    assert actions == [
        "rollout.create",
        "rollout.start",
        "rollout.pause",
        "rollout.resume",
        "rollout.abort",
    ]


def test_bad_input_on_the_shell_is_a_message_not_a_traceback(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    family_id = add_family(platform, "cli")
    image_id = add_image(platform, family_id, "2.0.0")
    code, out = run(
        platform, capsys, "create", "--name", "x", "--image", str(image_id), "--policy", "{nope"
    )
    assert code == 2 and "the policy is not JSON" in out
    bad = json.dumps({"selection": {"family": "cli"}, "waves": {"kind": "fixed", "sizes": [-1]}})
    code, out = run(platform, capsys, "preview", "--image", str(image_id), "--policy", bad)
    assert code == 2 and "policy.waves.sizes[0]" in out
    code, out = run(platform, capsys, "show", "77")
    assert code == 2 and "rollout 77 not found" in out
    code, out = run(
        platform,
        capsys,
        "create",
        "--name",
        "x",
        "--image",
        str(image_id),
        "--policy",
        "@/nonexistent.json",
    )
    assert code == 2 and "cannot read the policy" in out
