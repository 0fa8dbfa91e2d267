"""rackpanel: the `rackpanel` CLI, generation of derived files, and the embedded demo."""

__version__ = "0.1.0"
