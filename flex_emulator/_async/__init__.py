"""The async face of flex_emulator (the source of the blocking one in ``_sync``)."""
