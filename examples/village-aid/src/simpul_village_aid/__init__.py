"""A fourth source system for Simpul: the social-assistance registry (DTKS/bansos
recipients per programme) that the kecamatan's social affairs desk exports as CSV.

`connector` is the source side (entry point `simpul.sources`), `schema_part` the
GraphQL side (entry point `simpul.schema`); see the hub's connectors/README.md."""
