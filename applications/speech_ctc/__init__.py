"""Speech recognition with CTC on synthetic spoken commands: `python -m applications.speech_ctc`."""
