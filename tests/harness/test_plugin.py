"""The pytest plugin as a user meets it: fixtures, modes, and the invariant checked at teardown."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pytest and the services in subprocesses

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


def test_an_async_test_that_breaks_the_invariant_fails_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_keeps_the_books(async_flex_world):
            await async_flex_world.create_account(subscriptions=[8])

        @pytest.mark.asyncio
        async def test_breaks_the_books(async_flex_world):
            await async_flex_world.create_account(subscriptions=[8])
            state = await async_flex_world.cloud.dump_state()
            table = state["tables"]["subscriptions"]
            column = table["columns"].index("quarters_available")
            table["rows"][0][column] = 4  # 1 credit available of 8, none assigned
            await async_flex_world.cloud.restore_state(state)
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_breaks_the_books*", "*the cloud's balances do not add up*"]
    )


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


def test_subprocess_services_also_start_without_the_fork_server(tmp_path: Path) -> None:
    from flex_emulator import CloudClient
    from flex_emulator._async.world import START
    from flex_emulator.subprocesses import Subprocesses

    servers = Subprocesses(tmp_path, START, fork=False)
    try:
        cloud = CloudClient(servers.start_cloud())
        assert cloud.healthz() == {"status": "ok"}
        assert cloud.clock()["now"] == "2026-11-28T10:00:00Z"
    finally:
        servers.close()
