"""Trigger-word detection ("activate") on synthetic speech: `python -m applications.trigger_word`."""
