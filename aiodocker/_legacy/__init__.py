"""aiodocker 0.27 compatibility: every surface that exists only for 0.27 code.

- ``client``: ``Docker``'s aiohttp objects (``session``, ``connector``) and its
  semi-public ``_query*`` helpers, as a base class of ``Docker``;
- ``responses``: the ``aiohttp.ClientResponse``/``StreamReader`` look-alikes they
  hand out;
- ``stream_bridge``: ``Stream._resp``, the hijacked response 0.27 code half-closes
  through;
- ``bodies``: ``parse_result`` and the other helpers only ``aiodocker.utils`` offers;
- ``held_streams``: the ``json_stream_*``/``multiplexed_result_*`` helpers of
  ``aiodocker.jsonstream`` and ``aiodocker.multiplexed``.

Layer: beside the resource modules. It may import ``_core``, ``_streams``,
``_transport``, ``_responses`` and the leaves. Only the modules that carry a 0.27
surface import it (``tests/unit/test_import_layers.py`` names them); nothing imports
this package's ``__init__``, which stays empty so that importing one part loads no other.
"""
