"""Plans: every memory operation written once, as a generator of database requests."""
