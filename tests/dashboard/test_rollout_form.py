"""The new-rollout form read into a policy, and the service's field paths mapped back to it."""

from __future__ import annotations

from app.dashboard.rollout_form import field_of, read_form
from firmware.rollout.policy import policy_from_dict

FAMILIES = {7: "wb"}


def test_a_full_form_becomes_a_policy_the_engine_reads() -> None:
    form = read_form(
        {
            "name": " to 2.0.0 ",
            "image_id": "7",
            "channel": "beta",
            "stations": "A-1, A-2\nA-3;A-4",
            "wave_sizes": "1, 10,100",
            "failure_percent": "12.5",
            "failure_action": "abort",
            "min_sample": "4",
            "window_start": "01:00",
            "window_end": "04:30",
            "allow_downgrade": "on",
        },
        FAMILIES,
    )
    assert form.errors == {} and form.image_id == 7 and form.values["name"] == "to 2.0.0"
    assert not form.checks["start"]
    policy = policy_from_dict(form.policy)
    assert policy.selection.family == "wb" and policy.selection.channel == "beta"
    assert policy.selection.stations == ("A-1", "A-2", "A-3", "A-4")
    assert policy.waves.sizes == (1, 10, 100)
    assert policy.criteria[0].percent == 12.5 and policy.criteria[0].action == "abort"
    assert policy.criteria[0].min_sample == 4 and policy.criteria[0].kind is None
    assert policy.windows[0].start.hour == 1 and policy.windows[0].end.minute == 30
    assert policy.allow_downgrade


def test_a_minimal_form_targets_the_images_family() -> None:
    form = read_form({"name": "x", "image_id": "7", "wave_sizes": "5"}, FAMILIES)
    assert form.errors == {}
    assert form.policy == {"selection": {"family": "wb"}, "waves": {"kind": "fixed", "sizes": [5]}}


def test_bad_fields_are_named_and_no_policy_is_built() -> None:
    form = read_form(
        {
            "name": "",
            "image_id": "8",
            "wave_sizes": "",
            "min_sample": "0",
            "failure_action": "explode",
            "window_start": "01:00",
            "stations": ["not", "text"],
        },
        FAMILIES,
    )
    assert set(form.errors) == {
        "name", "image_id", "wave_sizes", "min_sample", "failure_action", "window_end",
    }  # fmt: skip
    assert form.policy == {}
    assert form.values["stations"] == ""


def test_service_paths_map_to_their_form_fields() -> None:
    assert field_of("policy.waves.sizes[0]") == "wave_sizes"
    assert field_of("policy.selection.family") == "family"
    assert field_of("policy.windows[0].start") == "window_start"
    assert field_of("policy.windows[0].weekdays[1]") == "window_start"
    assert field_of("policy.criteria[0].percent") == "failure_percent"
    assert field_of("policy.allow_downgrade") == "allow_downgrade"
    assert field_of("image_id") == "image_id"
    assert field_of("policy.retries") == ""
    assert field_of("policy.selectionx") == ""
