"""Training code of the learned plug-ins (torch; imported only by ``videosync train`` and the
plug-ins that need it).

* :mod:`videosync.learn.profile` — trainer of the ``profile`` head (``videosync train profile``).
* :mod:`videosync.learn.visual` — the ``learned`` embedder's network (a small frame CNN plus
  temporal convolutions, no positional encoding), its cross-view sequence-contrastive loss,
  the synthetic training worlds and its trainer (``videosync train learned``).
"""
