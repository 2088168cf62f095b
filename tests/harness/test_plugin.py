"""The pytest plugin as a user meets it: fixtures, modes, and the invariant checked at teardown."""

import pytest

pytest_plugins = ["pytester"]


def test_a_test_that_breaks_the_invariant_fails_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_breaks_the_books(flex_world):
            account = flex_world.create_account(subscriptions=[8])
            state = flex_world.cloud.dump_state()
            table = state["tables"]["subscriptions"]
            column = table["columns"].index("quarters_available")
            table["rows"][0][column] = 4  # 1 credit available of 8, none assigned
            flex_world.cloud.restore_state(state)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the cloud's balances do not add up*"])


def test_flex_mode_option_and_marker_choose_how_services_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_default(flex_world):
            assert flex_world.mode == "subprocess"

        @pytest.mark.flex_world(mode="inprocess")
        def test_marked(flex_world):
            assert flex_world.mode == "inprocess"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--flex-mode=subprocess")
    result.assert_outcomes(passed=2)
