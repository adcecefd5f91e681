"""Use cases: what officers and institutions do to a practitioner's record.

Controllers, the scheduler and the CLI call these; these call the engine and the database.
Every act takes the actor and a reason, and dates are arguments (the caller knows "today").
"""
