"""The REST routes, one module per subject; each route names the roles it admits."""
