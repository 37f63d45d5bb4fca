import itertools

import pytest

from enrollment.lifecycle import (
    DeviceState,
    InvalidTransition,
    Operation,
    allowed_targets,
    apply,
    transition,
)

S = DeviceState

ALLOWED = {
    (S.REGISTERED, S.ENROLLED),
    (S.REGISTERED, S.DECOMMISSIONED),
    (S.ENROLLED, S.RELEASED),
    (S.ENROLLED, S.DECOMMISSIONED),
    (S.RELEASED, S.PAIRED),
    (S.RELEASED, S.DECOMMISSIONED),
    (S.PAIRED, S.RELEASED),
    (S.PAIRED, S.DECOMMISSIONED),
}


@pytest.mark.parametrize(("current", "requested"), list(itertools.product(S, S)))
def test_every_pair_of_states_is_allowed_or_refused_as_the_table_says(current, requested):
    if (current, requested) in ALLOWED:
        assert transition(current, requested) is requested
    else:
        with pytest.raises(InvalidTransition) as caught:
            transition(current, requested)
        assert caught.value.current is current
        assert caught.value.requested is requested
        assert str(caught.value) == (
            f"device is {current.value}; it cannot become {requested.value}"
        )


ALLOWED_OPERATIONS = {
    (S.REGISTERED, Operation.ENROLL),
    (S.ENROLLED, Operation.RELEASE),
    (S.RELEASED, Operation.PAIR),
    (S.PAIRED, Operation.UNPAIR),
    *((state, Operation.DECOMMISSION) for state in S if state is not S.DECOMMISSIONED),
}


@pytest.mark.parametrize(("current", "operation"), list(itertools.product(S, Operation)))
def test_every_operation_from_every_state_is_allowed_or_refused_as_the_table_says(
    current, operation
):
    if (current, operation) in ALLOWED_OPERATIONS:
        assert apply(current, operation) is operation.target
        assert (current, operation.target) in ALLOWED
    else:
        with pytest.raises(InvalidTransition) as caught:
            apply(current, operation)
        assert (caught.value.current, caught.value.requested) == (current, operation.target)


def test_the_happy_path_runs_from_factory_to_owner_and_back_to_market():
    state = S.REGISTERED
    for operation in (Operation.ENROLL, Operation.RELEASE, Operation.PAIR, Operation.UNPAIR):
        state = apply(state, operation)
    assert state is S.RELEASED
    assert apply(state, Operation.PAIR) is S.PAIRED


def test_decommissioned_is_the_only_final_state():
    assert [state for state in S if state.is_final] == [S.DECOMMISSIONED]
    assert allowed_targets(S.DECOMMISSIONED) == frozenset()


def test_decommission_is_allowed_from_every_other_state():
    for state in S:
        if state is not S.DECOMMISSIONED:
            assert S.DECOMMISSIONED in allowed_targets(state)


def test_repeating_the_current_state_is_refused_so_services_detect_replays_themselves():
    with pytest.raises(InvalidTransition, match="^device is released; it cannot become released$"):
        transition(S.RELEASED, S.RELEASED)


def test_states_and_operations_have_stable_string_values():
    assert [s.value for s in S] == [
        "registered",
        "enrolled",
        "released",
        "paired",
        "decommissioned",
    ]
    assert [o.value for o in Operation] == ["enroll", "release", "pair", "unpair", "decommission"]
