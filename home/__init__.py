"""The HOME node emulator: an on-premise system that receives credits from the licensing cloud."""
