"""The format of a generated sample-data directory.

`demo generate` writes it into `manifest.json`; `hub demo` regenerates a directory whose
manifest names another format instead of serving data its sample services no longer
read (a licensing database from before the requirement tables answered HTTP 500).
Raise it whenever a sample database's tables or what the generator writes change."""

DATA_FORMAT = 2
