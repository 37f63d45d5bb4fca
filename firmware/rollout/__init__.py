"""The rollout engine: a pure state machine (station reports and a clock in, commands out).

``model`` holds the vocabulary; ``targets`` one station's machine; ``waves`` the wave sizes and
verdicts; ``machine`` the rollout; ``planner`` the streaming assignment of stations to waves.
The durable service around it keeps the state in the database and sends the commands.
"""
