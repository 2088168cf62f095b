"""What ``scripts/run`` runs: ``flex-emulator up`` (flex_emulator/launch.py), its state in the checkout's var/."""

from pathlib import Path

from flex_emulator import launch

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    launch.main(prog="scripts/run", default_data=ROOT / "var")
