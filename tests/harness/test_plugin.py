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


def test_the_next_tests_world_is_prepared_while_a_test_ends_and_each_test_still_gets_a_fresh_one(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import threading

        def pytest_unconfigure(config):
            left = [thread for thread in threading.enumerate() if thread.name == "flex-emulator-world"]
            print(f"world threads left: {len(left)}")
        """
    )
    pytester.makepyfile(
        """
        import os
        from datetime import UTC, datetime

        import pytest

        def prepared(tmp_path, expected):
            if not os.environ.get("PYTEST_XDIST_WORKER"):  # which test runs before which on a worker varies
                assert (tmp_path / "flex-world").is_symlink() == expected

        def an_online_test(world):
            assert world.events() == [] and world.requests(harness=True) == []
            account = world.create_account(subscriptions=[8])
            studio = world.start_home("Studio A", account=account)
            account.assign(studio, 2)
            studio.settle()
            assert studio.credits()["total"] == 2
            assert [event["kind"] for event in studio.events()][:1] == ["link_state"]
            return studio

        def test_first(flex_world, tmp_path):
            prepared(tmp_path, False)  # no test before it
            an_online_test(flex_world)

        def test_second(flex_world, tmp_path):
            prepared(tmp_path, True)  # while test_first ended
            studio = an_online_test(flex_world)
            assert (tmp_path / "flex-world" / "home-1-studio-a.log").exists()
            assert studio.name == "home-1-studio-a"

        @pytest.mark.flex_world(start=datetime(2027, 1, 1, tzinfo=UTC))
        def test_its_own_start(flex_world, tmp_path):
            prepared(tmp_path, True)  # for its marker's start
            assert flex_world.now() == datetime(2027, 1, 1, tzinfo=UTC)
            an_online_test(flex_world)

        def test_without_a_world(tmp_path):
            assert not (tmp_path / "flex-world").exists()

        @pytest.mark.asyncio
        async def test_async_after_one_without(async_flex_world, tmp_path):
            prepared(tmp_path, False)  # the test before had no world: nothing was prepared for this one
            await async_flex_world.create_account()

        @pytest.mark.asyncio
        async def test_async(async_flex_world, tmp_path):
            prepared(tmp_path, True)
            account = await async_flex_world.create_account(subscriptions=[8])
            studio = await async_flex_world.start_home("Studio A", account=account)
            await account.assign(studio, 1)
            await studio.settle()
            assert (await studio.credits())["total"] == 1

        @pytest.mark.flex_world(check=False)
        def test_last(flex_world, tmp_path):
            prepared(tmp_path, True)
            flex_world.create_account()
        """
    )
    args = ("-p", "no:cacheprovider", "-p", "no:randomly", "-o", "asyncio_default_fixture_loop_scope=function")
    result = pytester.runpytest_subprocess(*args, "-s", "-q")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["world threads left: 0"])
    parallel = pytester.runpytest_subprocess(*args, "-q", "-n", "2")
    parallel.assert_outcomes(passed=7)


def test_where_no_link_can_be_made_each_test_gets_a_world_of_its_own_folder(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pathlib

        def refuse(self, *args, **kwargs):
            raise OSError(1, "links are not allowed here")

        pathlib.Path.symlink_to = refuse
        """
    )
    pytester.makepyfile(
        """
        def test_first(flex_world, tmp_path):
            flex_world.start_home("Studio A", account=flex_world.create_account())

        def test_second(flex_world, tmp_path):
            assert (tmp_path / "flex-world").is_dir() and not (tmp_path / "flex-world").is_symlink()
            studio = flex_world.start_home("Studio A", account=flex_world.create_account())
            assert (tmp_path / "flex-world" / "home-1-studio-a.log").exists() and studio.link_state() == "online"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-q")
    result.assert_outcomes(passed=2)
    leftovers = [path for path in pytester.path.rglob("flex-world[0-9]*") if any(path.iterdir())]
    assert leftovers == []  # the world prepared for test_second was stopped and removed
