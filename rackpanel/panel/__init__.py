"""The panel as a web page, the physical panel's twin (`rackpanel demo`, `rackpanel panel`).

``states`` judges each node from its peers' views, ``sources`` reads the running services,
``snapshot`` keeps the whole panel as one JSON document, ``server`` serves it to browsers.
"""
