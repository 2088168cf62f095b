"""Connection details of a running world: everything a user's own client needs to reach it."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AccountDetails:
    """One account: its id, its admin's sign-in, and a bearer token of that admin (``Authorization: Bearer …``)."""

    id: str
    name: str
    email: str
    password: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class HomeDetails:
    """One HOME node: its base URL (no token needed), its system id, and the account it is linked to."""

    label: str
    url: str
    system_id: str
    account_id: str | None


@dataclass(frozen=True)
class ConnectionDetails:
    """The cloud's base URL, every account and every HOME of a world, as they are now (a restarted
    service keeps its address, so these stay true for the whole test)."""

    cloud_url: str
    accounts: list[AccountDetails]
    homes: list[HomeDetails]

    def account(self, name: str | None = None) -> AccountDetails:
        """The account called ``name`` (the first one when no name is given)."""
        for account in self.accounts:
            if name is None or account.name == name:
                return account
        raise LookupError(f"no account {name!r} in this world" if name else "this world has no account yet")

    def home(self, label: str) -> HomeDetails:
        """The HOME labelled ``label``."""
        for home in self.homes:
            if home.label == label:
                return home
        raise LookupError(f"no HOME labelled {label!r} in this world")
