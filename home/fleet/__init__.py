"""Fleet mode: one process running many HOME nodes, each with its own identity, data, link and credits."""
