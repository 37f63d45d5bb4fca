"""The durable rollout service: the pure engine (:mod:`firmware.rollout`) around the database.

Each step loads a target (or a rollout) under a claim, hands the engine its reports and a
clock, and commits what the engine decided, with the commands to send in the outbox, in one
transaction. Commands leave only after that commit, and a resend reuses the stored requestId.
"""
