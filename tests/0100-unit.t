#!/bin/sh
# The library's parsers on their own (decimals, times, JSON, keys, hashes).
exec "${WSI_BIN:-$(dirname "$0")/../build/bin}/unit"
