"""The README's "Use it in your tests" example: an online HOME gets credits, uses them, gives them back."""

from flex_emulator import World


def test_online_home_gets_credits_and_gives_them_back(flex_world: World) -> None:
    account = flex_world.create_account("Acme Broadcast", subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)  # linked and online

    assignment = account.assign(studio, 2.5)
    studio.settle()  # HOME has applied the copy the cloud pushed
    assert studio.credits()["total"] == 2.5
    assert account.subscription()["credits_available"] == 5.5

    flex_world.advance(days=45)  # a month and a half on one virtual clock: check-ins keep it valid
    assert studio.credits()["total"] == 2.5

    account.revoke(studio, assignment)
    flex_world.settle()
    assert studio.credits()["total"] == 0
    assert account.subscription()["credits_available"] == 8
    # when the test ends, the fixture checks the invariant across the cloud and every HOME
