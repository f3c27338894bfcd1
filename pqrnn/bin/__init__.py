"""pqrnn's command-line binaries (absl flags; `python -m pqrnn.bin.<name> --helpfull`)."""
