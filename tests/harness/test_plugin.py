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


def test_a_misspelt_marker_argument_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.flex_world(mdoe="subprocess")
        def test_typo(flex_world):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown argument 'mdoe'; it takes mode, start, check*"])


def test_check_false_lets_a_test_leave_a_home_ahead_of_the_cloud(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def ahead(world):
            account = world.create_account(subscriptions=[8])
            van = world.start_home("OB Van 3", account=account, online=False)
            before = world.cloud.dump_state()
            account.assign(van, 2)
            van.upload(account.download(van))
            world.cloud.restore_state(before)  # the cloud forgets: HOME holds credits it does not know

        def test_checked(flex_world):
            ahead(flex_world)

        @pytest.mark.flex_world(check=False)
        def test_not_checked(flex_world):
            ahead(flex_world)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_checked*", "*does not know as held there*"])
    assert "test_not_checked" not in result.stdout.str().split("short test summary")[-1]


def test_services_are_quiet_and_a_failing_test_shows_the_end_of_their_logs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_quiet="""
        def test_passes(flex_world):
            account = flex_world.create_account(subscriptions=[8])
            studio = flex_world.start_home("Studio A", account=account)
            account.assign(studio, 1)
            studio.settle()
        """,
        test_loud="""
        def test_fails(flex_world):
            account = flex_world.create_account(subscriptions=[8])
            flex_world.start_home("Studio A", account=account)
            assert False, "on purpose"
        """,
    )
    quiet = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-s", "test_quiet.py")
    quiet.assert_outcomes(passed=1)
    assert "snapshot_issued" not in quiet.stdout.str() + quiet.stderr.str()
    logs = sorted(path.name for path in pytester.path.rglob("flex-world/*.log"))
    assert logs == ["cloud.log", "home-1-studio-a.log"]
    loud = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--flex-log-lines=5", "test_loud.py")
    loud.assert_outcomes(failed=1)
    loud.stdout.fnmatch_lines(["*flex-emulator cloud.log (last 5 lines*", "*flex-emulator home-1-studio-a.log*"])
