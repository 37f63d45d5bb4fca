"""Firmware for the fleet: hardware families, channels, signed images, downloads and rollouts.

Images are signed by a firmware-signing certificate of the manufacturer root; rollouts move
through batches under a policy (thresholds, windows, never during an active transaction) and
keep their state durable so that a restart loses and repeats nothing.
"""
