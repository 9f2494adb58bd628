"""Command line: thin commands that parse input, call one stage function, shape output."""
