"""Keys: the HMAC master key and the keys derived from it (``hmac``), and signing keys and signed
records (``signing``, the only module importing ``cryptography``)."""
