"""The licensing cloud emulator: portal, JSON API, HOME link, scheduler."""
