"""Connectors: how the hub talks to a channel's partner system, one package per connector.

:mod:`~channelhub.connectors.contract` is what the flows and channel jobs may ask of one;
:mod:`~channelhub.connectors.registry` finds the installed ones and binds a channel to its
hook; :mod:`~channelhub.connectors.base` is what every hook shares and
:mod:`~channelhub.connectors.http_common` what every HTTP connector does with an answer.
Nothing outside a connector's package imports its modules: the hub reaches it through its
declaration and its hook.
"""
