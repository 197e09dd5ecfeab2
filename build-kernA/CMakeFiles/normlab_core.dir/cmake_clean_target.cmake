file(REMOVE_RECURSE
  "libnormlab_core.a"
)
