"""How much input mcplint reads before it stops: the same limits for the manifest, the
documents it references and the JSON documents servers answer with (a hostile input ends in
a finding, never in unbounded time or memory). A module of its own so that the probing
process can read them without loading the YAML parser."""

MAX_BYTES = 1024 * 1024  # per file
MAX_DEPTH = 64  # nesting of mappings and sequences (JSON objects and arrays)
MAX_NODES = 100_000  # values, alias expansions included
