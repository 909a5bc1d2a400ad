{
  "targets": [
    {
      "target_name": "peername",
      "sources": ["native/peername.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
